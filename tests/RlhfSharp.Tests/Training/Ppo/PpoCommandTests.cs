using RlhfSharp.Tests.Cli;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>`rlhf ppo` end to end: a tiny GPT-2-vocabulary policy against a reward model made from it.</summary>
public class PpoCommandTests
{
    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    public void Ppo_writes_a_policy_that_generate_loads_and_its_run_records(int frozenLayers, bool deltaRewardAndSeparateValue)
    {
        string policy = TrainingCommandTestsModels.TinyModel;
        string rm = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        string prompts = TrainingCommandTestsModels.HhSample(16);
        Assert.Equal(0, CliRunner.Run("reward", "--model", policy, "--data", prompts, "--out", rm, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);

        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = CliRunner.Run("ppo", "--policy", policy, "--reward-model", rm, "--prompts", prompts, "--out", outDir,
            "--max-steps", "2", "--batch-size", "4", "--max-new-tokens", "6", "--max-length", "48", "--eval-every", "2", "--eval-prompt-count", "2",
            "--ppo-epochs", "1", "--freeze-bottom-layers", $"{frozenLayers}",
            "--delta-reward", $"{deltaRewardAndSeparateValue}", "--separate-value-model", $"{deltaRewardAndSeparateValue}");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("done: 2 iterations", result.Output);
        // HH prompts run longer than --max-length 48: ppo says how many it cut, as generate and prepare do.
        Assert.Matches(@"note: \d+ of 16 prompts were longer than 48 tokens and were cut from the left", result.Output);
        Assert.Contains(frozenLayers > 0 ? "shared with the policy" : "a full copy", result.Output);
        foreach (string file in new[] { "config.json", "model.safetensors", PolicyWithValueHead.ValueHeadFile, "vocab.json", "reward_curve.png", "reward_curve.svg", "samples.md", "metrics.jsonl", "ppo_options.yaml" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);
        Assert.True(Directory.Exists(Path.Combine(outDir, "best")));
        // The options file the run wrote is a config that gives the same options back.
        string written = Path.Combine(outDir, "ppo_options.yaml");
        var printed = CliRunner.Run("ppo", "--config", written, "--print-config");
        Assert.True(printed.ExitCode == 0, printed.Error);
        Assert.Equal(File.ReadAllText(written), printed.Output);
        Assert.Contains("eval_prompt_count: 2", printed.Output.Split('\n'));

        var generated = CliRunner.Run("generate", "--model", outDir, "--prompt", "Hello", "--max-new-tokens", "3");
        Assert.True(generated.ExitCode == 0, generated.Error);
        Assert.Contains("ids: ", generated.Output);
    }
}
