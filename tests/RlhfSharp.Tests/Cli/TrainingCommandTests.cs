using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Tests.Cli;

/// <summary>`rlhf sft`, `rlhf reward` and `rlhf eval reward` end to end on a tiny model with the GPT-2 tokenizer.</summary>
public class TrainingCommandTests
{
    static string[] SmallRun(int steps) => ["--max-steps", $"{steps}", "--batch-size", "4", "--max-length", "48", "--eval-every", "2", "--save-every", "2", "--log-every", "1"];

    static readonly string[] Small = SmallRun(4);

    [Fact]
    public void Sft_then_reward_then_eval_produce_loadable_models_and_run_records()
    {
        string data = TrainingCommandTestsModels.HhSample(40);
        string sftOut = Path.Combine(TestPaths.NewTempDirectory(), "sft");
        var sft = CliRunner.Run(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", sftOut, .. Small, "--learning-rate", "1e-3"]);
        Assert.True(sft.ExitCode == 0, sft.Error);
        Assert.Contains("done: 4 steps", sft.Output);
        Assert.True(File.Exists(Path.Combine(sftOut, "vocab.json")), "tokenizer files travel with the model");
        Assert.Equal(0.001, YamlConfig.Load<RlhfSharp.Training.Sft.SftOptions>(Path.Combine(sftOut, "sft_options.yaml")).LearningRate);
        Assert.Contains(MetricsWriter.ReadJsonl(Path.Combine(sftOut, "metrics.jsonl")), row => row.Values.ContainsKey("eval_loss"));
        using (var model = CausalLanguageModel.FromPretrained(sftOut)) Assert.Equal(50257, model.Config.VocabSize);

        string rmOut = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        var reward = CliRunner.Run(["reward", "--model", sftOut, "--data", data, "--out", rmOut, .. Small, "--center-rewards-coefficient", "0.01"]);
        Assert.True(reward.ExitCode == 0, reward.Error);
        Assert.Contains("score.weight", ModelCheckpoint.Open(rmOut).Tensors.Keys);

        var eval = CliRunner.Run("eval", "reward", "--model", rmOut, "--data", data, "--max-length", "48");
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Matches(@"pairs 40 accuracy \d\.\d{4} mean_margin -?\d\.\d{4}", eval.Output);
    }

    [Fact]
    public void Resume_continues_from_the_latest_checkpoint()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        Assert.Equal(0, CliRunner.Run(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, .. Small]).ExitCode);
        var resumed = CliRunner.Run(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, .. SmallRun(6), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("at step 4", resumed.Output);
        Assert.Contains("done: 6 steps", resumed.Output);
        // metrics.jsonl holds each step once.
        var steps = MetricsWriter.ReadJsonl(Path.Combine(outDir, "metrics.jsonl")).Where(r => r.Values.ContainsKey("loss")).Select(r => r.Step).ToList();
        Assert.Equal(steps.Distinct().Count(), steps.Count);
    }


    [Fact]
    public void Bad_input_is_a_one_line_error_and_leaves_an_existing_run_intact()
    {
        string data = TrainingCommandTestsModels.HhSample(12);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "existing");
        Directory.CreateDirectory(outDir);
        string marker = Path.Combine(outDir, "earlier-result.txt");
        File.WriteAllText(marker, "keep me");

        string malformed = Path.Combine(TestPaths.NewTempDirectory(), "bad.jsonl");
        File.WriteAllLines(malformed, [File.ReadLines(data).First(), "{\"chosen\": \"oops\""]);
        CliRunner.AssertOneLineError(CliRunner.Run(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", malformed, "--out", outDir, "--resume", .. Small]), "bad.jsonl:2:");
        CliRunner.AssertOneLineError(CliRunner.Run(["reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", "/nonexistent/data.jsonl", "--out", outDir, "--resume"]), "/nonexistent/data.jsonl");

        string config = Path.Combine(TestPaths.NewTempDirectory(), "sft.yaml");
        File.WriteAllText(config, "batch_size: 2\nlearning_rat: 0.1\n");
        CliRunner.AssertOneLineError(CliRunner.Run(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, "--resume", "--config", config]), "sft.yaml:2:1: unknown key 'learning_rat'");

        CliRunner.AssertOneLineError(CliRunner.Run(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, .. Small]), "folder is not empty");

        Assert.Equal(["earlier-result.txt"], Directory.GetFileSystemEntries(outDir).Select(Path.GetFileName));
        Assert.Equal("keep me", File.ReadAllText(marker));
    }

    [Fact]
    public void Config_file_values_apply_and_explicit_options_override_them()
    {
        string data = TrainingCommandTestsModels.HhSample(12);
        string config = Path.Combine(TestPaths.NewTempDirectory(), "sft.yaml");
        File.WriteAllText(config, "max_steps: 2\nlearning_rate: 0.002\nbatch_size: 3\nmax_length: 40\n");
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        var result = CliRunner.Run("sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, "--config", config, "--batch-size", "2");
        Assert.True(result.ExitCode == 0, result.Error);
        var resolved = YamlConfig.Load<RlhfSharp.Training.Sft.SftOptions>(Path.Combine(outDir, "sft_options.yaml"));
        Assert.Equal((2L, 0.002, 2, 40), (resolved.MaxSteps, resolved.LearningRate, resolved.BatchSize, resolved.MaxLength));
    }
}

/// <summary>A tiny random GPT-2 over the real 50,257-token vocabulary (with its tokenizer files), and HH samples.</summary>
public static class TrainingCommandTestsModels
{
    static readonly Lazy<string> LazyTinyModel = new(() =>
    {
        string dir = TestPaths.NewTempDirectory();
        var json = Models.TinyModels.ConfigJson("gpt2");
        json["vocab_size"] = 50257;
        json["n_embd"] = 16;
        json["n_positions"] = 128;
        json["eos_token_id"] = 50256;
        TorchSharp.torch.manual_seed(5);
        using var model = new CausalLanguageModel(ModelConfig.FromJson(json));
        model.SavePretrained(dir);
        PretrainedWeights.CopyTokenizerFiles(TestPaths.Shared("gpt2-tokenizer"), dir);
        return dir;
    });

    public static string HhSample(int lines)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "hh.jsonl");
        using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(TestPaths.Shared("hh-rlhf", "helpful-base", "test.jsonl.gz")), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        File.WriteAllLines(path, Enumerable.Range(0, lines).Select(_ => reader.ReadLine()!));
        return path;
    }

    public static string TinyModel => LazyTinyModel.Value;
}

[Trait("Category", "Slow")] // two training subprocesses
public class ReproducibilityTests
{
    [Fact]
    public void Two_processes_with_the_same_seed_train_identical_weights()
    {
        string data = TrainingCommandTestsModels.HhSample(16);
        var runs = Enumerable.Range(0, 2).Select(_ => Path.Combine(TestPaths.NewTempDirectory(), "sft")).ToList();
        foreach (string run in runs)
        {
            var result = CliRunner.RunScript("sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", run,
                "--max-steps", "3", "--batch-size", "4", "--max-length", "48", "--seed", "5");
            Assert.True(result.ExitCode == 0, result.Error);
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(runs[0], "model.safetensors")), File.ReadAllBytes(Path.Combine(runs[1], "model.safetensors")));
    }
}
