using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Training;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// --gradient-checkpointing on every trainer: the run says it recomputes the blocks, and trains the same weights as
/// without it (the tiny GPT-2 has dropout 0.1, so the recomputed blocks must draw the same masks).
/// </summary>
[Collection(GlobalRandomStateCollection.Name)] // in-process runs seed the process-wide generator
public class GradientCheckpointingCommandTests
{
    const string Announcement = "gradient checkpointing: the blocks of";

    /// <summary>Every tensor of every safetensors file in a run folder, by file and name.</summary>
    static Dictionary<string, TorchSharp.torch.Tensor> Weights(string directory) =>
        Directory.GetFiles(directory, "*.safetensors").SelectMany(path => SafetensorsFile.ReadHeader(path).Tensors
            .Select(entry => KeyValuePair.Create($"{Path.GetFileName(path)}:{entry.Key}", SafetensorsFile.LoadTensor(path, entry.Value))))
            .ToDictionary();

    /// <summary>Runs the command without and with --gradient-checkpointing into fresh folders; returns both outputs and folders.</summary>
    static ((string Output, string Folder) Plain, (string Output, string Folder) Checkpointed) RunBothWays(Func<string, string[]> command)
    {
        (string, string) Run(params string[] extra)
        {
            string folder = Path.Combine(TestPaths.NewTempDirectory(), "run");
            var result = CliRunner.Run([.. command(folder), .. extra]);
            Assert.True(result.ExitCode == 0, result.Error + result.Output);
            return (result.Output + result.Error, folder);
        }
        return (Run(), Run("--gradient-checkpointing"));
    }

    static void AssertSameWeights(string expectedFolder, string actualFolder, int files)
    {
        var expected = Weights(expectedFolder);
        var actual = Weights(actualFolder);
        Assert.Equal(files, expected.Keys.Select(k => k.Split(':')[0]).Distinct().Count());
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, weight) in expected)
        {
            double difference = (actual[name] - weight).abs().max().item<float>();
            Assert.True(difference <= 1e-6, $"{name} differs by {difference:E2}");
        }
    }

    static readonly string[] Short = ["--max-steps", "3", "--batch-size", "2", "--max-length", "48", "--learning-rate", "1e-3", "--seed", "5"];

    [Fact]
    public void Sft_and_reward_with_gradient_checkpointing_train_the_same_weights()
    {
        string data = TrainingCommandTestsModels.HhSample(12), model = TrainingCommandTestsModels.TinyModel;
        foreach (string trainer in new[] { "sft", "reward" })
        {
            var (plain, checkpointed) = RunBothWays(folder => [trainer, "--model", model, "--data", data, "--out", folder, .. Short]);
            Assert.DoesNotContain(Announcement, plain.Output);
            Assert.Contains($"{Announcement} 1 trunk(s)", checkpointed.Output);
            AssertSameWeights(plain.Folder, checkpointed.Folder, files: 1);
        }
    }

    [Fact]
    public void Ppo_with_gradient_checkpointing_trains_the_same_policy_and_separate_value_model()
    {
        string prompts = TrainingCommandTestsModels.HhSample(12), model = TrainingCommandTestsModels.TinyModel;
        string rewardModel = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        Assert.Equal(0, CliRunner.Run("reward", "--model", model, "--data", prompts, "--out", rewardModel, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);
        var (plain, checkpointed) = RunBothWays(folder =>
            ["ppo", "--policy", model, "--reward-model", rewardModel, "--prompts", prompts, "--out", folder, "--max-steps", "2", "--batch-size", "3",
             "--max-new-tokens", "5", "--max-length", "48", "--ppo-epochs", "2", "--eval-every", "100", "--separate-value-model", "true"]);
        Assert.Contains($"{Announcement} 2 trunk(s)", checkpointed.Output);
        AssertSameWeights(plain.Folder, checkpointed.Folder, files: 2);
    }

    /// <summary>The gradients are the same either way, so a resumed run may switch it without a warning.</summary>
    [Fact]
    public void Switching_gradient_checkpointing_on_resume_is_free()
    {
        var sft = Assert.Single(ResumeCompatibility.Changes(new SftOptions(), new SftOptions { GradientCheckpointing = true }));
        Assert.Equal(("gradient_checkpointing", ResumeRule.Free), (sft.Key, sft.Rule));
        var ppo = Assert.Single(ResumeCompatibility.Changes(new PpoOptions { GradientCheckpointing = true }, new PpoOptions()));
        Assert.Equal(ResumeRule.Free, ppo.Rule);
    }
}
