using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// LoRA end to end through the CLI on tiny models with the GPT-2 tokenizer: what a LoRA training run saves merges into a
/// checkpoint with the logits of base + adapter, and sft, reward, ppo, generate and merge chain on one base.
/// </summary>
public class LoraPipelineTests
{
    /// <summary>Two steps at a learning rate that moves tiny adapters visibly.</summary>
    static readonly string[] TwoSteps = ["--max-steps", "2", "--batch-size", "4", "--max-length", "48", "--learning-rate", "1e-2", "--eval-every", "100", "--save-every", "100"];

    static CliResult Succeeds(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 0, $"rlhf {string.Join(' ', args)}: exit {result.ExitCode}\n{result.Error}{result.Output}");
        return result;
    }

    static string NewFolder(string name) => Path.Combine(TestPaths.NewTempDirectory(), name);

    /// <summary>Logits of base + the adapter as PEFT would apply it (<see cref="PeftAdapter.Load"/>).</summary>
    static Tensor AdaptedLogits(string baseDir, string adapter)
    {
        using var model = CausalLanguageModel.FromPretrained(baseDir);
        PeftAdapter.Load(model, adapter);
        model.eval();
        return LoraFolders.Output(model);
    }

    static Tensor Logits(string modelDir)
    {
        using var model = CausalLanguageModel.FromPretrained(modelDir);
        model.eval();
        return LoraFolders.Output(model);
    }

    /// <summary>The merged checkpoint of <paramref name="adapter"/> gives base + adapter's logits within 1e-5, and the adapter has trained.</summary>
    static void AssertMergedMatches(string baseDir, string adapter, string merged)
    {
        using var expected = AdaptedLogits(baseDir, adapter);
        using var actual = Logits(merged);
        using var baseLogits = Logits(baseDir);
        double difference = LoraFolders.MaxDifference(actual, expected), trained = LoraFolders.MaxDifference(baseLogits, expected);
        Assert.True(difference <= 1e-5, $"max |merged - (base + adapter)| = {difference}");
        Assert.True(trained > 1e-3, $"the run's adapter must have moved the logits (max change {trained})");
    }

    [Theory]
    [InlineData("gpt2")]   // Conv1D (fan_in_fan_out): the update is folded in transposed
    [InlineData("llama")]
    public void A_lora_runs_merged_checkpoint_gives_the_logits_of_base_plus_its_adapter(string variant)
    {
        string baseDir = TinyModels.SavedWithGpt2Tokenizer(variant), data = TrainingCommandTestsModels.HhSample(8);
        string sft = NewFolder("sft"), merged = NewFolder("merged");
        Succeeds(["sft", "--model", baseDir, "--data", data, "--out", sft, .. TwoSteps, "--lora-r", "4", "--lora-alpha", "16"]);
        Succeeds("merge", "--model", baseDir, "--adapter", sft, "--out", merged);
        using (var plain = CausalLanguageModel.FromPretrained(merged)) Assert.DoesNotContain(plain.named_parameters(), p => p.name.Contains("lora_"));
        AssertMergedMatches(baseDir, sft, merged);
    }

    [Fact]
    public void Sft_reward_ppo_generate_and_merge_chain_on_one_base()
    {
        string baseDir = TinyModels.SavedWithGpt2Tokenizer("llama"), data = TrainingCommandTestsModels.HhSample(8);
        string sft = NewFolder("sft"), rm = NewFolder("rm"), ppo = NewFolder("ppo"), merged = NewFolder("merged");

        Succeeds(["sft", "--model", baseDir, "--data", data, "--out", sft, .. TwoSteps, "--lora-r", "4"]);
        using (var policy = new AdaptedModelSource(baseDir, sft).LoadCausalLm()) Assert.True(LoraModel.HasAdapters(policy));

        Succeeds(["reward", "--model", baseDir, "--data", data, "--out", rm, .. TwoSteps, "--lora-r", "4"]);
        Assert.Equal((PeftAdapter.SequenceClassification, baseDir), (PeftAdapter.ReadConfig(rm).TaskType, PeftAdapter.ReadConfig(rm).BaseModel));
        using (var rewardModel = new AdaptedModelSource(baseDir, rm).LoadRewardModel()) Assert.True(LoraModel.HasAdapters(rewardModel));

        var ppoRun = Succeeds("ppo", "--policy", baseDir, "--adapter", sft, "--lora-r", "4", "--reward-model", rm, "--prompts", data, "--out", ppo,
            "--max-steps", "2", "--batch-size", "2", "--max-new-tokens", "4", "--max-length", "40", "--ppo-epochs", "1", "--eval-every", "100",
            "--save-every", "100", "--learning-rate", "1e-2");
        Assert.Contains($"continuing the adapter {sft}", ppoRun.Output);
        Assert.Contains($"reward model: the LoRA adapter {rm} on the policy's base (shared, no second copy)", ppoRun.Output);
        Assert.Contains("reference model: 0.0 MB of its own parameters", ppoRun.Output);
        var ppoConfig = PeftAdapter.ReadConfig(ppo);
        Assert.Equal((PeftAdapter.CausalLm, baseDir, 4), (ppoConfig.TaskType, ppoConfig.BaseModel, ppoConfig.Settings.Rank));

        string[] generate = ["--prompt", "Hello, my name is", "--max-new-tokens", "6", "--greedy"];
        var withAdapter = Succeeds(["generate", "--model", baseDir, "--adapter", ppo, .. generate]);
        Assert.Contains("ids:", withAdapter.Output);
        Assert.Equal(withAdapter.Output, Succeeds(["generate", "--model", ppo, .. generate]).Output); // the adapter folder alone finds its base

        Succeeds("merge", "--adapter", ppo, "--out", merged);
        AssertMergedMatches(baseDir, ppo, merged);
        Assert.Equal(withAdapter.Output, Succeeds(["generate", "--model", merged, .. generate]).Output);
    }
}
