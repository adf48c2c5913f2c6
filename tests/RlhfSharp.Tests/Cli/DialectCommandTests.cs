using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Tests.Models;

namespace RlhfSharp.Tests.Cli;

/// <summary>Each newer dialect's tiny checkpoint, loaded from disk by the CLI: it generates, trains (sft, reward, ppo) and saves.</summary>
public class DialectCommandTests
{
    public static TheoryData<string> NewDialects() => new(TinyModels.NewDialectVariants);

    static void AssertSucceeded(CliResult result) => Assert.True(result.ExitCode == 0, result.Error);

    static string Architecture(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, ModelConfig.FileName)))!["architectures"]![0]!.GetValue<string>();

    [Theory, MemberData(nameof(NewDialects))]
    public void A_tiny_checkpoint_generates_trains_and_saves(string variant)
    {
        string model = TinyModels.SavedWithGpt2Tokenizer(variant);
        string data = TrainingCommandTestsModels.HhSample(8);
        string work = TestPaths.NewTempDirectory();
        string[] oneStep = ["--max-steps", "1", "--batch-size", "2", "--max-length", "48"];

        var generated = CliRunner.Run("generate", "--model", model, "--prompt", "Hello there", "--max-new-tokens", "4", "--greedy");
        AssertSucceeded(generated);
        Assert.Contains("ids:", generated.Output);

        string sft = Path.Combine(work, "sft");
        AssertSucceeded(CliRunner.Run(["sft", "--model", model, "--data", data, "--out", sft, .. oneStep, "--learning-rate", "1e-2"]));
        Assert.Equal(Architecture(model), Architecture(sft));
        using (var before = CausalLanguageModel.FromPretrained(model))
        using (var after = CausalLanguageModel.FromPretrained(sft))
        {
            var trained = after.state_dict();
            Assert.Contains(before.state_dict(), p => !p.Value.equal(trained[p.Key]).all().item<bool>());
        }

        string reward = Path.Combine(work, "rm");
        AssertSucceeded(CliRunner.Run(["reward", "--model", sft, "--data", data, "--out", reward, .. oneStep]));
        Assert.EndsWith("ForSequenceClassification", Architecture(reward));
        Assert.Contains("score.weight", ModelCheckpoint.Open(reward).Tensors.Keys);

        string ppo = Path.Combine(work, "ppo");
        AssertSucceeded(CliRunner.Run("ppo", "--policy", sft, "--reward-model", reward, "--prompts", data, "--out", ppo,
            "--max-steps", "1", "--batch-size", "2", "--max-new-tokens", "4", "--max-length", "48", "--ppo-epochs", "1"));
        using var policy = CausalLanguageModel.FromPretrained(ppo);
        Assert.Equal(Architecture(model), Architecture(ppo));
    }
}
