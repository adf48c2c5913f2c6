using System.Text.Json.Nodes;
using RlhfSharp.Models;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// `rlhf reward` and `rlhf eval reward` on rows marked "tie": true (annotate export --ties keep): left out and counted,
/// never trained or scored as a preference for the response written first. Weights are compared bit for bit, so
/// these run apart from tests that draw from LibTorch's global generator.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public class RewardTieTests
{
    /// <summary>The first <paramref name="preferences"/> HH rows as they are, then <paramref name="extra"/> more, marked as ties or not.</summary>
    static string Data(int preferences, int extra, bool extraAreTies)
    {
        var lines = File.ReadAllLines(TrainingCommandTestsModels.HhSample(preferences + extra));
        string path = Path.Combine(TestPaths.NewTempDirectory(), "prefs.jsonl");
        File.WriteAllLines(path, lines.Select((line, i) =>
        {
            if (i < preferences || !extraAreTies) return line;
            var row = JsonNode.Parse(line)!.AsObject();
            row["tie"] = true;
            return row.ToJsonString();
        }));
        return path;
    }

    static byte[] TrainedWeights(string data, out string output)
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        var result = CliRunner.Run("reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir,
            "--max-steps", "2", "--batch-size", "4", "--max-length", "48", "--seed", "3");
        Assert.True(result.ExitCode == 0, result.Error);
        output = result.Output;
        return File.ReadAllBytes(Path.Combine(outDir, "model.safetensors"));
    }

    [Fact]
    public void Reward_training_leaves_ties_out_with_a_count_so_a_tie_changes_nothing()
    {
        byte[] preferencesOnly = TrainedWeights(Data(8, 0, extraAreTies: false), out _);
        byte[] withTies = TrainedWeights(Data(8, 4, extraAreTies: true), out string tieOutput);
        byte[] tiesAsPreferences = TrainedWeights(Data(8, 4, extraAreTies: false), out _);

        Assert.Equal(preferencesOnly, withTies);
        Assert.Contains("4 ties left out", tieOutput);
        Assert.NotEqual(preferencesOnly, tiesAsPreferences); // the same rows read as preferences would have moved the model
    }

    [Fact]
    public void Eval_reward_leaves_ties_out_with_a_count()
    {
        string rm = TestPaths.NewTempDirectory();
        TorchSharp.torch.manual_seed(4);
        using (var model = SequenceRewardModel.InitializeFrom(TrainingCommandTestsModels.TinyModel)) model.SavePretrained(rm);
        PretrainedWeights.CopyTokenizerFiles(TrainingCommandTestsModels.TinyModel, rm);

        var preferencesOnly = CliRunner.Run("eval", "reward", "--model", rm, "--data", Data(8, 0, extraAreTies: false), "--max-length", "48");
        var withTies = CliRunner.Run("eval", "reward", "--model", rm, "--data", Data(8, 4, extraAreTies: true), "--max-length", "48");
        Assert.True(withTies.ExitCode == 0, withTies.Error);
        string summary = withTies.Output.Split('\n').Single(l => l.StartsWith("pairs "));
        Assert.StartsWith("pairs 8 ", summary);
        Assert.EndsWith("(skipped rows: 0, ties left out: 4)", summary.Trim());
        Assert.Equal(preferencesOnly.Output.Split('\n').Single(l => l.StartsWith("pairs ")).Split(" (")[0], summary.Split(" (")[0]);
    }
}
