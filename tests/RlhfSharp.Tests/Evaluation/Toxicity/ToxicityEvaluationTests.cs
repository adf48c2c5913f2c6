using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class ToxicityEvaluationTests
{
    /// <summary>Scores a text by its share of the letter "e", and counts the texts it was asked about.</summary>
    sealed class LetterScorer : IToxicityScorer
    {
        public int Scored;
        public string Name => "letter-e";
        public IReadOnlyList<double> Score(IReadOnlyList<string> texts)
        {
            Scored += texts.Count;
            return texts.Select(t => t.Length == 0 ? 0 : t.Count(c => c == 'e') / (double)t.Length * 4).Select(v => Math.Min(1, v)).ToList();
        }
    }

    static string RtpFile()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "rtp.jsonl");
        File.WriteAllLines(path, File.ReadLines(TestPaths.Shared("real-toxicity-prompts", "challenging-toxic.jsonl")).Take(3)
            .Concat(File.ReadLines(TestPaths.Shared("real-toxicity-prompts", "nontoxic.jsonl")).Take(3)));
        return path;
    }

    [Fact]
    public void Protocol_scores_samples_reports_by_prompt_toxicity_and_resumes_without_regenerating()
    {
        var prompts = ToxicityPromptReader.Read(RtpFile());
        Assert.Equal(6, prompts.Count);
        Assert.All(prompts, p => Assert.NotNull(p.PromptToxicity));

        string dir = TrainingCommandTestsModels.TinyModel;
        using var modelA = CausalLanguageModel.FromPretrained(dir);
        using var modelB = CausalLanguageModel.FromPretrained(dir);
        var tokenizer = TokenizerLoader.FromDirectory(dir)!;
        EvaluatedModel[] models = [new("sft", modelA, tokenizer), new("rlhf", modelB, tokenizer)];
        string outDir = TestPaths.NewTempDirectory();
        var options = new ToxicityEvaluationOptions { Count = 4, Samples = 3, Sampling = new SamplingOptions { MaxNewTokens = 4, Seed = 7 }, BootstrapResamples = 200 };

        var scorer = new LetterScorer();
        new ToxicityEvaluation(scorer, options with { Count = 2 }, outDir).Run(models, prompts); // "stopped" after 2 prompts
        Assert.Equal(2 * 2 * 3, scorer.Scored);
        var report = new ToxicityEvaluation(scorer, options, outDir).Run(models, prompts);
        Assert.Equal(2 * 4 * 3, scorer.Scored); // only the two new prompts per model were generated and scored

        // The report's numbers are the statistics of what samples.jsonl holds.
        var lines = File.ReadAllLines(Path.Combine(outDir, ToxicityEvaluation.SamplesFile));
        Assert.Equal(8, lines.Length);
        var samples = lines.Select(l => System.Text.Json.JsonSerializer.Deserialize<ToxicitySample>(l)!).ToList();
        var sft = samples.Where(s => s.Model == "sft").OrderBy(s => s.PromptIndex).Select(s => s.Scores.ToArray()).ToList();
        Assert.Equal(ToxicityMetrics.MeanToxicity(sft), report.Models[0].All.MeanToxicity.Value, 12);
        Assert.Equal(ToxicityMetrics.ExpectedMaximum(sft), report.Models[0].All.ExpectedMaximumToxicity.Value, 12);
        // Same weights and the same per-prompt seeds: both models continue identically, so the difference is 0.
        Assert.Equal(0, report.Differences[0].MeanToxicity.Value, 12);
        int toxic = report.Models[0].ToxicPrompts?.Prompts ?? 0, nonToxic = report.Models[0].NonToxicPrompts?.Prompts ?? 0;
        Assert.Equal(4, toxic + nonToxic);

        ToxicityReportWriter.WriteAll(report, outDir);
        Assert.Contains("| sft | 4 | all |", File.ReadAllText(Path.Combine(outDir, "toxicity.md")));
        Assert.Contains("\"mean_toxicity\"", File.ReadAllText(Path.Combine(outDir, "toxicity.json")));
    }

    [Fact]
    public void Report_counts_empty_continuations_per_model_and_split()
    {
        var prompts = ToxicityPromptReader.Read(RtpFile());
        string dir = TrainingCommandTestsModels.TinyModel;
        using var model = CausalLanguageModel.FromPretrained(dir);
        EvaluatedModel[] models = [new("m", model, TokenizerLoader.FromDirectory(dir)!)];
        string outDir = TestPaths.NewTempDirectory();
        var options = new ToxicityEvaluationOptions { Count = 3, Samples = 2, Sampling = new SamplingOptions { MaxNewTokens = 2, Seed = 7 }, BootstrapResamples = 20 };
        new ToxicityEvaluation(new LetterScorer(), options, outDir).Run(models, prompts);

        // A model that stopped at once: blank out continuations on disk (3 of prompt 0's and 1's 4), then resume, which reads them back.
        string samplesFile = Path.Combine(outDir, ToxicityEvaluation.SamplesFile);
        var samples = File.ReadAllLines(samplesFile).Select(l => System.Text.Json.JsonSerializer.Deserialize<ToxicitySample>(l)!).ToList();
        string[][] blanked = [["", " \n"], ["", "text"]];
        File.WriteAllLines(samplesFile, samples.Select(sample => System.Text.Json.JsonSerializer.Serialize(
            sample.PromptIndex < 2 ? sample with { Continuations = blanked[sample.PromptIndex], Scores = [0, 0] } : sample)));
        var report = new ToxicityEvaluation(new LetterScorer(), options, outDir).Run(models, prompts);

        Assert.Equal(3, report.Models[0].All.EmptyContinuations);
        Assert.Equal(3, (report.Models[0].ToxicPrompts?.EmptyContinuations ?? 0) + (report.Models[0].NonToxicPrompts?.EmptyContinuations ?? 0));
        ToxicityReportWriter.WriteAll(report, outDir);
        Assert.Contains("| model | prompts | split | mean toxicity | expected max toxicity | toxicity probability | empty continuations |",
            File.ReadAllText(Path.Combine(outDir, "toxicity.md")));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "toxicity.json")));
        Assert.Equal(3, json.RootElement.GetProperty("models")[0].GetProperty("all").GetProperty("empty_continuations").GetInt32());
    }

    [Fact]
    public void A_run_whose_scorer_failed_before_any_sample_may_restart_with_another_scorer()
    {
        var prompts = ToxicityPromptReader.Read(RtpFile());
        string dir = TrainingCommandTestsModels.TinyModel;
        using var model = CausalLanguageModel.FromPretrained(dir);
        EvaluatedModel[] models = [new("m", model, TokenizerLoader.FromDirectory(dir)!)];
        string outDir = TestPaths.NewTempDirectory();
        var options = new ToxicityEvaluationOptions { Count = 2, Samples = 1, Sampling = new SamplingOptions { MaxNewTokens = 2, Seed = 7 }, BootstrapResamples = 20 };

        // Perspective at a port where nothing listens: the first prompt's scoring fails, nothing is written to samples.jsonl.
        string keyVariable = $"RLHF_TEST_PERSPECTIVE_KEY_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(keyVariable, "key");
        try
        {
            using var perspective = new PerspectiveScorer(new PerspectiveOptions { KeyVariable = keyVariable, BaseUrl = "http://127.0.0.1:1", MaxAttempts = 1 });
            Assert.Contains("unreachable", Assert.ThrowsAny<RlhfException>(() => new ToxicityEvaluation(perspective, options, outDir).Run(models, prompts)).Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(keyVariable, null);
        }
        Assert.True(File.Exists(Path.Combine(outDir, "toxicity-settings.json")));
        Assert.Equal(0, new FileInfo(Path.Combine(outDir, ToxicityEvaluation.SamplesFile)).Length);

        var report = new ToxicityEvaluation(new LetterScorer(), options, outDir).Run(models, prompts);
        Assert.Equal("letter-e", report.Scorer);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(outDir, ToxicityEvaluation.SamplesFile)).Length);

        // Now it holds samples: another scorer is refused as before.
        var error = Assert.ThrowsAny<RlhfException>(() => new ToxicityEvaluation(new ZeroScorer(), options, outDir).Run(models, prompts));
        Assert.Contains("made with other settings", error.Message);
    }

    sealed class ZeroScorer : IToxicityScorer
    {
        public string Name => "zero";
        public IReadOnlyList<double> Score(IReadOnlyList<string> texts) => texts.Select(_ => 0.0).ToList();
    }

    [Fact]
    public void Plain_prompt_lists_and_bad_rtp_rows()
    {
        string dir = TestPaths.NewTempDirectory();
        string plain = Path.Combine(dir, "prompts.txt");
        File.WriteAllLines(plain, ["The weather today", "", "My neighbour said"]);
        Assert.Equal(["The weather today", "My neighbour said"], ToxicityPromptReader.Read(plain).Select(p => p.Text));

        string bad = Path.Combine(dir, "bad.jsonl");
        File.WriteAllLines(bad, ["{\"prompt\": {\"text\": \"ok\", \"toxicity\": 0.1}}", "{\"prompt\": {\"toxicity\": 0.3}}"]);
        Assert.Contains("bad.jsonl:2:", Assert.ThrowsAny<RlhfException>(() => ToxicityPromptReader.Read(bad)).Message);
    }
}

public class ToxicityEvalCommandTests
{
    [Fact]
    public void Eval_toxicity_compares_two_models_with_a_word_list_and_resumes()
    {
        string prompts = Path.Combine(TestPaths.NewTempDirectory(), "rtp.jsonl");
        File.WriteAllLines(prompts, File.ReadLines(TestPaths.Shared("real-toxicity-prompts", "challenging-toxic.jsonl")).Take(4)
            .Concat(File.ReadLines(TestPaths.Shared("real-toxicity-prompts", "nontoxic.jsonl")).Take(4)));
        string model = TrainingCommandTestsModels.TinyModel;
        string copy = Path.Combine(TestPaths.NewTempDirectory(), "other");
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(model)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        string outDir = TestPaths.NewTempDirectory();
        string[] args = ["eval", "toxicity", "--model", model, "--model", copy, "--prompts", prompts, "--n", "6", "--samples", "3",
            "--max-new-tokens", "5", "--scorer", $"wordlist:{TestPaths.Shared("wordlists", "ldnoobw-en.txt")}", "--out", outDir];
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("toxic prompts", result.Output);
        Assert.Contains("Difference (B - A)", File.ReadAllText(Path.Combine(outDir, "toxicity.md")));
        Assert.Equal(12, File.ReadAllLines(Path.Combine(outDir, ToxicityEvaluation.SamplesFile)).Length);
        string firstReport = File.ReadAllText(Path.Combine(outDir, "toxicity.json"));
        var again = CliRunner.Run(args);
        Assert.Contains("resuming: 12 of 12", again.Output);
        Assert.Equal(firstReport, File.ReadAllText(Path.Combine(outDir, "toxicity.json"))); // nothing regenerated, same seeds
        var mixed = CliRunner.Run([.. args.Select(a => a == "3" ? "4" : a)]); // --samples 4 into a folder of 3-sample work
        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("made with other settings", mixed.Error);
    }

    [Fact]
    public void Unknown_scorer_is_a_one_line_error()
    {
        var error = Assert.ThrowsAny<RlhfException>(() => ToxicityScorers.Create("magic"));
        Assert.Contains("unknown scorer 'magic'", error.Message);
    }
}
