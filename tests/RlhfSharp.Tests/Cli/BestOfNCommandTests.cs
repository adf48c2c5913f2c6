using System.Text.Json.Nodes;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Rewards;
using RlhfSharp.Tests.Rewards;

namespace RlhfSharp.Tests.Cli;

/// <summary>`rlhf best-of-n` on the tiny GPT-2-vocabulary model: n samples per prompt, scored, the best kept as SFT data.</summary>
public class BestOfNCommandTests
{
    static string Model => TrainingCommandTestsModels.TinyModel;

    /// <summary>Three arithmetic prompts with a GSM8K-style answer and an id.</summary>
    internal static string AnswerPrompts()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "answers.jsonl");
        File.WriteAllLines(path,
        [
            """{"prompt": "Q: 2 + 3 = ?\nA:", "answer": "#### 5", "id": "a"}""",
            """{"prompt": "Q: 3 + 4 = ?\nA:", "answer": "#### 7", "id": "b"}""",
            """{"prompt": "Q: 1 + 1 = ?\nA:", "answer": "#### 2", "id": "c"}""",
        ]);
        return path;
    }

    static CliResult BestOfN(string prompts, string outDir, params string[] more) =>
        CliRunner.Run(["best-of-n", "--model", Model, "--prompts", prompts, "--out", outDir, "--n", "4", "--max-new-tokens", "5", "--seed", "3", .. more]);

    static List<JsonObject> Rows(string path) => File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Fact]
    public void Keeps_each_prompts_highest_scoring_sample_with_every_score_recorded()
    {
        string prompts = AnswerPrompts(), outDir = Path.Combine(TestPaths.NewTempDirectory(), "bon");
        var result = BestOfN(prompts, outDir, "--reward", "length:max=2,unit=chars", "--reward", "exact-match", "--reward-weight", "1", "2", "--batch-size", "5");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("best of 4 for 3 prompts: mean reward", result.Output);

        var samples = Rows(Path.Combine(outDir, BestOfNCommand.SamplesFile));
        Assert.Equal(12, samples.Count);
        Assert.Equal(Enumerable.Range(0, 12).Select(k => (k / 4, k % 4)), samples.Select(s => ((int)s["prompt_index"]!, (int)s["sample"]!)));
        var exact = new ExactMatchReward();
        string[] answers = ["#### 5", "#### 7", "#### 2"];
        foreach (var s in samples)
        {
            string completion = (string)s["completion"]!;
            // length: -max(0, characters - 2) / 2; exact-match against the row's answer; total 1 x length + 2 x exact.
            double length = -Math.Max(0, completion.Length - 2) / 2.0, match = exact.Matches(completion, answers[(int)s["prompt_index"]!]) ? 1 : 0;
            Assert.Equal(length, (double)s["rewards"]!["length"]!, 12);
            Assert.Equal(match, (double)s["rewards"]!["exact_match"]!);
            Assert.Equal(length + 2 * match, (double)s["reward"]!, 12);
        }
        Assert.True(samples.Select(s => (double)s["reward"]!).Distinct().Count() > 1, "the samples differ, so the choice means something");

        var best = Rows(Path.Combine(outDir, BestOfNCommand.BestFile));
        Assert.Equal(3, best.Count);
        for (int i = 0; i < 3; i++)
        {
            var group = samples.Where(s => (int)s["prompt_index"]! == i).ToList();
            double top = group.Max(s => (double)s["reward"]!);
            var first = group.First(s => (double)s["reward"]! == top); // ties: the first sampled wins
            Assert.Equal((string)first["completion"]!, (string)best[i]["completion"]!);
            Assert.Equal(top, (double)best[i]["reward"]!);
            Assert.Equal([first], group.Where(s => (bool)s["best"]!));
            // The row's own fields come along, so the output can be the next round's prompts.
            Assert.Equal((answers[i], "abc"[i].ToString()), ((string)best[i]["answer"]!, (string)best[i]["id"]!));
            Assert.Equal((string)group[0]["prompt"]!, (string)best[i]["prompt"]!);
        }

        // The same seed gives the same samples whatever the batch size.
        string again = Path.Combine(TestPaths.NewTempDirectory(), "bon");
        Assert.Equal(0, BestOfN(prompts, again, "--reward", "length:max=2,unit=chars", "--reward", "exact-match", "--reward-weight", "1", "2", "--batch-size", "16").ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(outDir, BestOfNCommand.SamplesFile)), File.ReadAllText(Path.Combine(again, BestOfNCommand.SamplesFile)));
    }

    [Fact]
    public void Ties_go_to_the_first_sample()
    {
        static BestOfNCommand.ScoredSample Scored(int prompt, int index, double reward) =>
            new(prompt, index, new RewardSample("p", $"{prompt}.{index}"), reward, new Dictionary<string, double>(), RlhfSharp.Generation.FinishReason.Length);
        var best = BestOfNCommand.BestPerPrompt([Scored(0, 0, 1), Scored(0, 1, 3), Scored(0, 2, 3), Scored(1, 0, -1), Scored(1, 1, -1)]);
        Assert.Equal(["0.1", "1.0"], best.Select(s => s.Sample.Completion));
    }

    [Fact]
    public void Sft_on_the_chosen_samples_trains_rejection_sampling_fine_tuning()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "bon");
        Assert.Equal(0, BestOfN(AnswerPrompts(), outDir, "--reward", "length:max=3,unit=chars").ExitCode);
        string sft = Path.Combine(TestPaths.NewTempDirectory(), "rft");
        var trained = CliRunner.Run("sft", "--model", Model, "--data", Path.Combine(outDir, BestOfNCommand.BestFile), "--out", sft,
            "--max-steps", "2", "--batch-size", "2", "--max-length", "32", "--held-out-fraction", "0");
        Assert.True(trained.ExitCode == 0, trained.Error + trained.Output);
        Assert.Contains("done: 2 steps", trained.Output);
        Assert.True(File.Exists(Path.Combine(sft, "model.safetensors")));
    }

    [Theory]
    [InlineData("ThrowingReward", "error: reward 'ThrowingReward' failed on a batch of 12 samples starting with prompt \"Q: 2 + 3 = ?\\nA:\", completion \"")]
    [InlineData("NaNReward", "error: reward 'NaNReward' gave NaN for sample 1 of the batch, prompt \"Q: 2 + 3 = ?\\nA:\", completion \"")]
    public void A_plugin_that_fails_stops_the_run_naming_it_and_the_sample_and_writes_nothing(string type, string expected)
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "bon");
        var result = BestOfN(AnswerPrompts(), outDir, "--reward-plugin", TestRewardPlugin.Reference(type), "--batch-size", "12");
        CliRunner.AssertOneLineError(result, expected);
        Assert.False(Directory.Exists(outDir), "nothing written");
    }

    [Fact]
    public void A_plugin_reward_loads_from_the_command_line()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "bon");
        var result = BestOfN(AnswerPrompts(), outDir, "--reward-plugin", TestRewardPlugin.Reference("AnswerLengthReward"), "--reward", "exact-match", "--reward-weight", "0.5", "2");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        // Weights in order: the --reward specs first, then the plugins (exact-match x 0.5, the plugin x 2).
        Assert.Contains("reward exact_match: exact-match, weight 0.5", result.Output);
        Assert.Contains($"reward AnswerLengthReward: plugin:{TestRewardPlugin.Reference("AnswerLengthReward")}, weight 2", result.Output);
        foreach (var s in Rows(Path.Combine(outDir, BestOfNCommand.SamplesFile)))
        {
            Assert.Equal(6.0, (double)s["rewards"]!["AnswerLengthReward"]!); // "#### 5".Length: the plugin saw the row's fields
            Assert.Equal(0.5 * (double)s["rewards"]!["exact_match"]! + 2 * 6.0, (double)s["reward"]!);
        }
    }

    public static TheoryData<string[], string[]> BadRewardFlags() => new()
    {
        { ["--reward", "length:max=0"], ["option --reward is length:max=0: max '0' is not a whole number of at least 1"] },
        { ["--reward", "regex:(a"], ["option --reward is regex:(a: invalid regular expression '(a': "] },
        { ["--reward", "exact-match:mode=fuzzy"], ["option --reward is exact-match:mode=fuzzy: mode 'fuzzy' is not exact or contains"] },
        { ["--reward", "exact_match"], ["option --reward is exact_match: folder does not exist, nor is it a hub id org/name; a reward is a reward model folder or hub id, exact-match"] },
        { ["--reward", "exact-match", "--reward", "regex:a", "--reward-weight", "1"],
            ["option --reward-weight: 1 weight for 2 rewards (exact-match, regex:a); give one per --reward in order, then one per --reward-plugin, or none for all 1"] },
        { ["--reward", "exact-match", "--reward-weight", "NaN"], ["option --reward-weight is NaN: must be a finite number"] },
        { ["--reward-plugin", "nowhere/Judge.dll:Acme.Judge"], ["option --reward-plugin is nowhere/Judge.dll:Acme.Judge: nowhere/Judge.dll: file does not exist"] },
        { ["--reward-plugin", "Judge.dll"], ["option --reward-plugin is Judge.dll: expected path/to/Plugin.dll:Namespace.Type"] },
        { ["--reward-plugin", TestRewardPlugin.Reference("NotAReward")], ["does not implement RlhfSharp.Rewards.IRewardFunction"] },
        { ["--reward-plugin", TestRewardPlugin.Reference("FailingConstructorReward")], ["the constructor of 'RlhfSharp.TestRewardPlugin.FailingConstructorReward' failed: FileNotFoundException: judge.json not found"] },
        { [], ["no reward: give --reward"] },
        { ["--reward", "exact-match", "--greedy"], ["option --greedy: the 4 completions of a prompt would all be the same"] },
    };

    [Theory]
    [MemberData(nameof(BadRewardFlags))]
    public void Bad_reward_flags_are_one_line_errors_before_anything_is_written(string[] flags, string[] expected)
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "bon");
        CliRunner.AssertOneLineError(BestOfN(AnswerPrompts(), outDir, flags), expected);
        Assert.False(Directory.Exists(outDir), "nothing written");
    }

    [Fact]
    public void A_folder_with_results_is_never_overwritten()
    {
        string outDir = TestPaths.NewTempDirectory();
        File.WriteAllText(Path.Combine(outDir, BestOfNCommand.BestFile), "earlier\n");
        CliRunner.AssertOneLineError(BestOfN(AnswerPrompts(), outDir, "--reward", "exact-match"), $"{outDir}: folder is not empty; choose a new --out");
        Assert.Equal("earlier\n", File.ReadAllText(Path.Combine(outDir, BestOfNCommand.BestFile)));
    }
}
