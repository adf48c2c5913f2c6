using System.Text.Json;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Models;
using RlhfSharp.Tests.Training.Ppo;
using RlhfSharp.Training.Metrics;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Grpo;

/// <summary>`rlhf grpo` and `rlhf rloo` end to end on a tiny GPT-2-vocabulary policy with rule rewards.</summary>
[Collection(GlobalRandomStateCollection.Name)] // the trainers seed torch's global generator per step
public class GrpoCommandTests
{
    /// <summary>Sums as prompts, each row with its "answer" field for exact-match.</summary>
    internal static string MathPrompts(int count = 16)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "math.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new { prompt = $"Q: what is {i % 4 + 1} plus {i / 4 + 1}? A:", answer = $"{i % 4 + i / 4 + 2}" })));
        return path;
    }

    internal static readonly string[] Rewards = ["--reward", "exact-match", "--reward", "regex:[0-9]", "--reward", "length:max=3", "--reward-weight", "1", "--reward-weight", "0.5", "--reward-weight", "1"];

    /// <summary>A short run; <paramref name="more"/> adds flags or (flag, value) pairs that replace the defaults here.</summary>
    static string[] Quick(string command, string policy, string prompts, string outDir, params string[] more)
    {
        var defaults = new Dictionary<string, string>
        {
            ["--max-steps"] = "2", ["--batch-size"] = "2", ["--num-generations"] = "3", ["--max-new-tokens"] = "5", ["--eval-every"] = "2",
            ["--eval-prompt-count"] = "2", ["--learning-rate"] = "1e-3",
        };
        foreach (string flag in more) defaults.Remove(flag);
        return [command, "--policy", policy, "--prompts", prompts, "--out", outDir, .. defaults.SelectMany(d => new[] { d.Key, d.Value }), .. Rewards, .. more];
    }

    static CliResult Succeeds(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        return result;
    }

    static IReadOnlyList<IReadOnlyDictionary<string, double>> Metrics(string outDir) =>
        MetricsWriter.ReadJsonl(Path.Combine(outDir, "metrics.jsonl")).Select(r => r.Values).ToList();

    [Fact]
    public void Grpo_writes_a_policy_that_generate_loads_with_trls_metrics_and_its_options_as_a_config()
    {
        string policy = TrainingCommandTestsModels.TinyModel, outDir = Path.Combine(TestPaths.NewTempDirectory(), "grpo");
        var result = Succeeds(Quick("grpo", policy, MathPrompts(), outDir));
        Assert.Contains("reference model: none (beta 0: no KL term)", result.Output);
        Assert.Contains("reward exact_match: exact-match, weight 1", result.Output);
        Assert.Matches(@"done: 2 steps; reward -?\d\.\d{4} -> -?\d\.\d{4}, best held-out reward", result.Output);
        foreach (string file in new[] { "config.json", "model.safetensors", "vocab.json", "reward_curve.png", "reward_curve.svg", "samples.md", "grpo_options.yaml", "run.json" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);
        Assert.True(Directory.Exists(Path.Combine(outDir, "best")));

        var rows = Metrics(outDir);
        Assert.Equal(2, rows.Count);
        foreach (string key in new[] { "reward", "reward_std", "frac_reward_zero_std", "rewards/exact_match/mean", "rewards/exact_match/std", "rewards/regex/mean",
                     "rewards/length/mean", "clip_ratio", "entropy", "loss", "completions/mean_length", "learning_rate", "eval_reward" })
            Assert.True(rows[^1].ContainsKey(key), key);
        // The reward is the weighted sum of the functions' means.
        var last = rows[^1];
        Assert.Equal(last["rewards/exact_match/mean"] + 0.5 * last["rewards/regex/mean"] + last["rewards/length/mean"], last["reward"], 1e-9);

        string written = Path.Combine(outDir, "grpo_options.yaml");
        var printed = CliRunner.Run("grpo", "--config", written, "--print-config");
        Assert.True(printed.ExitCode == 0, printed.Error);
        Assert.Equal(File.ReadAllText(written), printed.Output);
        Assert.Contains("loss_type: bnpo", printed.Output.Split('\n'));
        Assert.Contains("scale_rewards: true", printed.Output.Split('\n'));

        var generated = CliRunner.Run("generate", "--model", outDir, "--prompt", "Q: what is 1 plus 1? A:", "--max-new-tokens", "3");
        Assert.True(generated.ExitCode == 0, generated.Error);
    }

    [Fact]
    public void A_resumed_grpo_run_ends_exactly_where_the_uninterrupted_one_did()
    {
        string policy = TrainingCommandTestsModels.TinyModel, prompts = MathPrompts();
        string straight = Path.Combine(TestPaths.NewTempDirectory(), "grpo"), interrupted = Path.Combine(TestPaths.NewTempDirectory(), "grpo");
        string[] Run(string outDir) => Quick("grpo", policy, prompts, outDir, "--max-steps", "4", "--save-every", "2", "--beta", "0.05", "--num-iterations", "2");
        Succeeds(Run(straight));
        // The same run interrupted after step 2: its step-4 checkpoint and final policy are gone.
        CopyFolder(straight, interrupted);
        Directory.Delete(Path.Combine(interrupted, "checkpoints", "step-00000004"), recursive: true);
        File.Delete(Path.Combine(interrupted, "model.safetensors"));

        var resumed = Succeeds([.. Run(interrupted), "--resume"]);
        Assert.Contains("resuming from", resumed.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(interrupted, "model.safetensors")));
        Assert.Equal(Metrics(straight).Select(r => (r["loss"], r["reward"], r["kl"])), Metrics(interrupted).Select(r => (r["loss"], r["reward"], r["kl"])));
    }

    static void CopyFolder(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to));
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to));
    }

    [Fact]
    public void Rloo_with_lora_saves_an_adapter_and_measures_kl_against_the_policy_with_its_adapters_off()
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("llama"), outDir = Path.Combine(TestPaths.NewTempDirectory(), "rloo");
        var result = Succeeds(Quick("rloo", policy, MathPrompts(), outDir, "--lora-r", "4", "--lora-alpha", "8", "--beta", "0.1"));
        Assert.Contains("reference model: 0.0 MB of its own parameters (the policy with its LoRA adapters switched off)", result.Output);
        Assert.Contains("as a LoRA adapter on", result.Output);
        var rows = Metrics(outDir);
        Assert.Equal(0.0, rows[0]["kl"]); // B starts at 0: the first step's policy is its reference exactly
        Assert.True(rows[1]["kl"] > 0, "the adapters moved the policy away from the base");
        var config = PeftAdapter.ReadConfig(outDir);
        Assert.Equal((PeftAdapter.CausalLm, policy, 4, 8.0), (config.TaskType, config.BaseModel, config.Settings.Rank, config.Settings.Alpha));
        Assert.False(File.Exists(Path.Combine(outDir, "model.safetensors")), "the base is not saved again");
        Assert.Contains("lora_r: 4", File.ReadAllLines(Path.Combine(outDir, "rloo_options.yaml")));

        // The adapter loads on its base and changes what it computes.
        using var trained = CausalLanguageModel.FromPretrained(policy);
        PeftAdapter.Load(trained, outDir);
        Assert.Contains(LoraModel.Adapters(trained), a => a.Adapter.B.weight!.abs().max().item<float>() > 0);
    }

    [Fact]
    public void Grpo_continues_an_sft_adapter_against_the_sft_policy()
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("gpt2"), sft = LoraPpoCommandTests.SftAdapterFolder(policy);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "grpo");
        var result = Succeeds(Quick("grpo", policy, MathPrompts(), outDir, "--adapter", sft, "--lora-r", "4", "--beta", "0.1"));
        Assert.Contains("(the policy with its LoRA adapters switched off and a frozen copy of the starting adapter on)", result.Output);
        Assert.Equal(0.0, Metrics(outDir)[0]["kl"]); // a bare-base reference would differ from base + SFT adapter at once
    }

    [Fact]
    public void The_example_sums_file_gives_exact_match_its_answers()
    {
        string example = Path.Combine(TestPaths.RepositoryRoot, "docs", "examples", "sums.jsonl");
        var rows = RlhfSharp.Data.DatasetReader.ReadPromptRecords(example).Examples;
        Assert.Equal(48, rows.Count);
        Assert.All(rows, row =>
        {
            var sum = System.Text.RegularExpressions.Regex.Match(row.Text, @"^\n\nHuman: What is (\d) plus (\d)\?\n\nAssistant:$");
            Assert.True(sum.Success, row.Text);
            Assert.Equal(int.Parse(sum.Groups[1].Value) + int.Parse(sum.Groups[2].Value), int.Parse(row.Fields["answer"]));
        });
        // The answer written as the completion scores 1, another number 0.
        var reward = new RlhfSharp.Rewards.ExactMatchReward();
        Assert.Equal([1.0, 0.0], reward.Score([new(rows[0].Text, $" {rows[0].Fields["answer"]}", rows[0].Fields), new(rows[0].Text, " 12", rows[0].Fields)]));

        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "grpo");
        var result = Succeeds("grpo", "--policy", TrainingCommandTestsModels.TinyModel, "--prompts", example, "--out", outDir, "--reward", "exact-match",
            "--max-steps", "1", "--batch-size", "2", "--num-generations", "2", "--max-new-tokens", "4");
        Assert.Contains("prompts: 46 for training, 2 held out", result.Output);
    }

    [Fact]
    public void Rloo_defaults_are_trls_two_generations_and_beta_0_05()
    {
        var printed = CliRunner.Run("rloo", "--print-config").Output.Split('\n');
        Assert.Contains("num_generations: 2", printed);
        Assert.Contains("beta: 0.05", printed);
        Assert.DoesNotContain(printed, line => line.StartsWith("scale_rewards"));
        var grpo = CliRunner.Run("grpo", "--print-config").Output.Split('\n');
        Assert.Contains("num_generations: 8", grpo);
        Assert.Contains("beta: 0", grpo);
    }

    [Theory]
    [InlineData(new[] { "--num-generations", "1" }, "--num-generations", "at least 2")]
    [InlineData(new[] { "--loss-type", "dapo" }, "--loss-type", "must be grpo, bnpo or dr_grpo")]
    [InlineData(new[] { "--epsilon", "0" }, "--epsilon", "(0, 1)")]
    [InlineData(new[] { "--beta", "-1" }, "--beta", "0 (no KL term, no reference model) or more")]
    [InlineData(new[] { "--reward", "regex:(" }, "--reward", "regex:(")]
    public void A_bad_option_is_a_one_line_error_and_writes_nothing(string[] bad, string flag, string rule)
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "grpo");
        CliRunner.AssertOneLineError(CliRunner.Run(Quick("grpo", TrainingCommandTestsModels.TinyModel, MathPrompts(), outDir, bad)), flag, rule);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Without_a_reward_the_run_is_refused_before_anything_is_written()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "rloo");
        CliRunner.AssertOneLineError(CliRunner.Run("rloo", "--policy", TrainingCommandTestsModels.TinyModel, "--prompts", MathPrompts(), "--out", outDir), "no reward", "--reward");
        Assert.False(Directory.Exists(outDir));
    }
}
