using System.Text.Json.Nodes;
using RlhfSharp.Distributed;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Distributed;
using RlhfSharp.Tests.Rewards;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>`rlhf ppo` with --reward specs: rule rewards that read the prompt rows' fields, plugins, and --reward-model as one of them.
/// Two runs are compared bit for bit, so the class runs alone (LibTorch's process-wide generator seeds the runs).</summary>
[Collection(GlobalRandomStateCollection.Name)]
public class PpoRewardSpecTests
{
    static readonly string[] Quick = ["--max-steps", "2", "--batch-size", "3", "--max-new-tokens", "4", "--max-length", "32", "--ppo-epochs", "1", "--seed", "4",
        "--held-out-fraction", "0"];

    static IReadOnlyList<IReadOnlyDictionary<string, double>> Metrics(string outDir) => LoraPpoCommandTests.Metrics(outDir);

    [Fact]
    public void Rule_and_plugin_rewards_see_the_prompt_rows_fields_and_each_function_logs_its_mean()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = CliRunner.Run(["ppo", "--policy", TrainingCommandTestsModels.TinyModel, "--prompts", BestOfNCommandTests.AnswerPrompts(), "--out", outDir,
            "--reward", "exact-match", "--reward-plugin", TestRewardPlugin.Reference("AnswerLengthReward"), "--reward-weight", "1", "0.5", .. Quick]);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("done: 2 iterations", result.Output);
        var rows = Metrics(outDir);
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            // Every answer ("#### 5", "#### 7", "#### 2") is 6 characters: the plugin read each rolled-out row's field.
            Assert.Equal(6.0, row["rewards/AnswerLengthReward/mean"]);
            double exact = row["rewards/exact_match/mean"];
            Assert.True(exact is >= 0 and <= 1);
            Assert.Equal(exact + 0.5 * 6.0, row["reward_mean"], 9);
        }
        var run = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "run.json")))!;
        Assert.Null(run["reward_model"]);
        Assert.Equal(["exact_match (exact-match) x 1", $"AnswerLengthReward (plugin:{TestRewardPlugin.Reference("AnswerLengthReward")}) x 0.5"],
            run["rewards"]!.AsArray().Select(r => (string)r!));
    }

    [Fact]
    public void A_reward_model_given_as_reward_trains_exactly_as_with_reward_model()
    {
        string policy = TrainingCommandTestsModels.TinyModel, prompts = TrainingCommandTestsModels.HhSample(8);
        string rm = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        Assert.Equal(0, CliRunner.Run("reward", "--model", policy, "--data", prompts, "--out", rm, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);
        var runs = new[] { "--reward-model", "--reward" }.Select(flag =>
        {
            string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
            var result = CliRunner.Run(["ppo", "--policy", policy, flag, rm, "--prompts", prompts, "--out", outDir, .. Quick]);
            Assert.True(result.ExitCode == 0, result.Error + result.Output);
            return Metrics(outDir).Select(r => r.Where(m => !m.Key.StartsWith("time") && m.Key is not ("seconds" or "tokens_per_s")).ToDictionary()).ToList();
        }).ToList();
        Assert.Equal(runs[0], runs[1]);
        Assert.DoesNotContain(runs[0][0].Keys, k => k.StartsWith("rewards/")); // one function: reward_mean is its mean
    }

    [Fact]
    public void Ppo_without_any_reward_is_refused_before_writing_anything()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = CliRunner.Run(["ppo", "--policy", TrainingCommandTestsModels.TinyModel, "--prompts", BestOfNCommandTests.AnswerPrompts(), "--out", outDir, .. Quick]);
        CliRunner.AssertOneLineError(result, "no reward: give --reward-model or --reward");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void A_plugin_that_throws_stops_ppo_with_one_line_naming_it()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = CliRunner.Run(["ppo", "--policy", TrainingCommandTestsModels.TinyModel, "--prompts", BestOfNCommandTests.AnswerPrompts(), "--out", outDir,
            "--reward", "exact-match", "--reward-plugin", TestRewardPlugin.Reference("ThrowingReward"), .. Quick]);
        CliRunner.AssertOneLineError(result, "reward 'ThrowingReward' failed on a batch of 3 samples starting with prompt \"Q: ", "InvalidOperationException: the scoring service is down");
    }

    [MpiFact]
    public void Several_rewards_on_two_ranks_log_world_means_and_keep_the_ranks_identical()
    {
        string policy = TrainingCommandTestsModels.TinyModel, prompts = TrainingCommandTestsModels.HhSample(16);
        string rm = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        Assert.Equal(0, CliRunner.Run("reward", "--model", policy, "--data", prompts, "--out", rm, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = MpiRun.Cli(2, ["ppo", "--policy", policy, "--reward", rm, "--reward", "length:max=3,unit=chars", "--prompts", prompts, "--out", outDir, .. Quick]);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Equal(0, DistributedReport.Load(outDir).MaxWeightDifferenceAcrossRanks);
        foreach (var row in Metrics(outDir))
        {
            Assert.Equal(6, row["rollouts"]); // 2 ranks x 3
            // Both ranks roll out as many, so the world's mean total is the sum of the functions' world means.
            Assert.Equal(row["rewards/reward_model/mean"] + row["rewards/length/mean"], row["reward_mean"], 9);
            Assert.True(row["rewards/length/mean"] < 0, "4 tokens of GPT-2 text run past 3 characters");
        }
    }
}
