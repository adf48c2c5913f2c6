using RlhfSharp.Rewards;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Evaluation.Human;

/// <summary>`rlhf eval pairwise prepare | judge | report` end to end on tiny models.</summary>
public class PairwiseCommandTests
{
    static CliResult Prepare(string modelA, string modelB, string prompts, string output) => CliRunner.Run("eval", "pairwise", "prepare",
        "--model-a", modelA, "--model-b", modelB, "--prompts", prompts, "--n", "2", "--max-new-tokens", "3", "--out", output);

    [Fact]
    public void Prepare_renders_chat_prompts_with_the_models_shared_template_and_refuses_two_that_differ()
    {
        string work = TestPaths.NewTempDirectory();
        string chatPrompts = Path.Combine(work, "chat.jsonl");
        File.WriteAllLines(chatPrompts, ["""{"prompt": [{"role": "user", "content": "Hi"}]}""", """{"prompt": [{"role": "user", "content": "Name a color."}]}"""]);
        int end = RlhfSharp.Tests.Data.QwenChatFolder.ImEnd;
        string qwenA = RlhfSharp.Tests.Data.QwenChatFolder.Model(end), qwenB = RlhfSharp.Tests.Data.QwenChatFolder.Model(end);

        string comparisons = Path.Combine(work, "comparisons.jsonl");
        var shared = Prepare(qwenA, qwenB, chatPrompts, comparisons);
        Assert.True(shared.ExitCode == 0, shared.Error);
        Assert.All(ComparisonFile.Read(comparisons), c => Assert.StartsWith("<|im_start|>system\n", c.Prompt));
        Assert.Contains(ComparisonFile.Read(comparisons), c => c.Prompt.EndsWith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", StringComparison.Ordinal));

        // A model without a template would answer HH text while the other answers Qwen's: refused before any generation.
        var differ = Prepare(qwenA, TrainingCommandTestsModels.TinyModel, chatPrompts, Path.Combine(work, "differ.jsonl"));
        CliRunner.AssertOneLineError(differ, "chat.jsonl: --model-a and --model-b render 2 of 2 chat prompts differently");
        Assert.False(File.Exists(Path.Combine(work, "differ.jsonl")));
    }

    [Fact]
    public void Prepare_refuses_a_tokenizer_whose_vocabulary_is_larger_than_the_models_naming_both()
    {
        // A 97-token model with GPT-2's 50,257-token tokenizer beside it: prompt ids past 96 would index out of its embedding.
        string small = RlhfSharp.Tests.Models.TinyModels.SavedWithOversizedTokenizer("gpt2");
        string work = TestPaths.NewTempDirectory();
        string prompts = Path.Combine(work, "prompts.txt");
        File.WriteAllLines(prompts, ["Hello there", "Name a color."]);
        string comparisons = Path.Combine(work, "comparisons.jsonl");

        var result = Prepare(TrainingCommandTestsModels.TinyModel, small, prompts, comparisons);

        CliRunner.AssertOneLineError(result, $"--model-b {small}: its tokenizer has 50257 token ids ({small}) but the model's vocab_size is 97 ({Path.Combine(small, "config.json")})");
        Assert.False(File.Exists(comparisons));
    }

    [Fact]
    public void Prepare_then_judge_with_a_reward_model_then_report_from_the_judgments()
    {
        string model = TrainingCommandTestsModels.TinyModel;
        string data = TrainingCommandTestsModels.HhSample(12);
        string work = TestPaths.NewTempDirectory();
        string rm = Path.Combine(work, "rm");
        Assert.Equal(0, CliRunner.Run("reward", "--model", model, "--data", data, "--out", rm, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);
        string sft = Path.Combine(work, "sft");
        Assert.Equal(0, CliRunner.Run("sft", "--model", model, "--data", data, "--out", sft, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);

        string comparisons = Path.Combine(work, "comparisons.jsonl");
        var prepared = CliRunner.Run("eval", "pairwise", "prepare", "--model-a", model, "--model-b", sft, "--prompts", data,
            "--n", "5", "--max-new-tokens", "5", "--seed", "3", "--out", comparisons);
        Assert.True(prepared.ExitCode == 0, prepared.Error);
        var items = ComparisonFile.Read(comparisons);
        Assert.Equal(5, items.Count);
        Assert.All(items, c => Assert.EndsWith("\n\nAssistant:", c.Prompt));
        Assert.Contains("\"seed\": 3", File.ReadAllText(comparisons + ".meta.json"));

        string judged = Path.Combine(work, "judged");
        var judge = CliRunner.Run("eval", "pairwise", "judge", "--comparisons", comparisons, "--judge-reward-model", rm, "--out", judged);
        Assert.True(judge.ExitCode == 0, judge.Error);
        var judgments = JudgmentFile.Read(Path.Combine(judged, "judgments.jsonl"));
        Assert.Equal(5, judgments.Count);
        Assert.All(new[] { "report.md", "report.json", "report.html" }, f => Assert.True(File.Exists(Path.Combine(judged, f)), f));

        var report = CliRunner.Run("eval", "pairwise", "report", "--judgments", Path.Combine(judged, "judgments.jsonl"), "--comparisons", comparisons);
        Assert.True(report.ExitCode == 0, report.Error);
        var expected = PairwiseStatistics.Compute(judgments, items[0].ModelA, items[0].ModelB);
        Assert.Equal(PairwiseReportWriter.ToMarkdown(expected).Trim(), report.Output.Trim());
    }

    [Fact]
    public void Reward_model_judge_picks_the_higher_score_and_ties_within_the_margin()
    {
        var judge = new RewardModelJudge(new FixedScores(), "fixed", tieMargin: 0.5);
        var comparisons = new[]
        {
            new Comparison("1", "p", "2", "1", "a", "b"), new Comparison("2", "p", "1", "3", "a", "b"), new Comparison("3", "p", "1", "1.4", "a", "b"),
        };
        Assert.Equal([PairwiseChoice.A, PairwiseChoice.B, PairwiseChoice.Tie], judge.Judge(comparisons));
    }

    /// <summary>Scores a response by the number it holds.</summary>
    sealed class FixedScores : RlhfSharp.Rewards.IRewardFunction
    {
        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) =>
            samples.Select(s => s.Completion).Select(r => double.Parse(r, System.Globalization.CultureInfo.InvariantCulture)).ToList();
    }
}

public class PairwiseReportFromDatabaseTests
{
    [Fact]
    public void Report_reads_the_annotation_database_and_matches_the_statistics()
    {
        string db = Path.Combine(TestPaths.NewTempDirectory(), "annotations.db");
        var comparisons = Enumerable.Range(1, 4).Select(i => new Comparison($"c{i}", $"\n\nHuman: q{i}\n\nAssistant:", $"a{i}", $"b{i}", "sft", "rlhf")).ToList();
        using (var store = new RlhfSharp.Annotation.AnnotationStore(db))
        {
            store.Import(comparisons, seed: 1);
            foreach (string name in new[] { "ann", "bob" })
            {
                var annotator = store.FindAnnotator(store.AddAnnotator(name))!;
                int n = 0;
                while (store.NextItem(annotator, perItem: 2) is { } item)
                    store.Submit(annotator, new RlhfSharp.Annotation.JudgmentSubmission(item.ItemId,
                        n++ % 2 == 0 ? RlhfSharp.Annotation.ScreenChoice.Left : RlhfSharp.Annotation.ScreenChoice.Tie, null, null, Guid.NewGuid().ToString()));
            }
        }
        string outDir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("eval", "pairwise", "report", "--db", db, "--out", outDir);
        Assert.True(result.ExitCode == 0, result.Error);
        var (judgments, modelA, modelB) = RlhfSharp.Annotation.AnnotationJudgments.Read(db);
        Assert.Equal(8, judgments.Count);
        Assert.Equal(("sft", "rlhf"), (modelA, modelB));
        var expected = PairwiseStatistics.Compute(judgments, modelA, modelB);
        Assert.Contains(PairwiseReportWriter.ToMarkdown(expected).Trim(), result.Output);
        Assert.NotNull(expected.Agreement); // two judgments per item: Cohen's kappa
        Assert.True(File.Exists(Path.Combine(outDir, "report.html")));
    }
}
