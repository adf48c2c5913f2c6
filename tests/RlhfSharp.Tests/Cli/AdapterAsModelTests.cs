using System.Text.Json.Nodes;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using RlhfSharp.Tests.Training.Ppo;
using RlhfSharp.Training.Metrics;
using static RlhfSharp.Tests.Cli.LoraTrainingCommandTests;
using static RlhfSharp.Tests.Training.Ppo.LoraPpoCommandTests;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// An adapter folder given as the model (sft/reward --model, ppo --policy) is its base with --adapter that folder, as
/// PEFT's AutoPeftModel reads it: the same seeded run to the bit. Comparing runs bit for bit needs LibTorch's process-wide
/// generator to themselves, so these run alone.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public class AdapterAsModelTests
{
    [Theory]
    [InlineData("sft")]
    [InlineData("reward")]
    public void An_adapter_folder_given_as_model_continues_on_the_base_it_names_exactly_as_adapter_does(string command)
    {
        string baseDir = TinyModels.SavedWithGpt2Tokenizer("llama"), data = TrainingCommandTestsModels.HhSample(12);
        string first = Path.Combine(TestPaths.NewTempDirectory(), "first");
        Succeeds([.. Run(command, baseDir, data, first), "--lora-r", "4", "--lora-alpha", "8", "--lora-target", "q_proj,v_proj"]);
        Assert.Contains("lora_r: 4\n", Succeeds(command, "--model", first, "--print-config").Output); // the options the continued run would use

        string viaAdapter = Path.Combine(TestPaths.NewTempDirectory(), "via-adapter"), viaModel = Path.Combine(TestPaths.NewTempDirectory(), "via-model");
        Succeeds([.. Run(command, baseDir, data, viaAdapter, steps: 2), "--adapter", first]);
        var result = Succeeds(Run(command, first, data, viaModel, steps: 2)); // as PEFT's AutoPeftModel: the base from base_model_name_or_path
        Assert.Contains($"LoRA: r 4, alpha 8 on", result.Output);
        Assert.Contains($"continuing the adapter {first} on {baseDir};", result.Output);

        // The same run: same metrics, same adapter, saved naming the same base.
        static IEnumerable<string> LoggedMetrics(string dir) =>
            MetricsWriter.ReadJsonl(Path.Combine(dir, MetricsWriter.JsonlFileName)).Select(r => string.Join(",", r.Values.Where(v => !v.Key.Contains("second")).Select(v => $"{v.Key}={v.Value:R}")));
        Assert.Equal(LoggedMetrics(viaAdapter), LoggedMetrics(viaModel));
        Assert.Equal(File.ReadAllBytes(Path.Combine(viaAdapter, PeftAdapter.WeightsFile)), File.ReadAllBytes(Path.Combine(viaModel, PeftAdapter.WeightsFile)));
        Assert.Equal(baseDir, (string?)AdapterConfig(viaModel)["base_model_name_or_path"]);
        Assert.Equal(File.ReadAllText(Path.Combine(viaAdapter, $"{command}_options.yaml")), File.ReadAllText(Path.Combine(viaModel, $"{command}_options.yaml")));
        Assert.Equal(Path.GetFullPath(first), (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(viaModel, "run.json")))!["adapter"]);
    }

    /// <summary>The metrics of a run but its timings, which differ from run to run.</summary>
    static IEnumerable<string> SeededMetrics(string outDir) =>
        Metrics(outDir).Select(row => string.Join(",", row.Where(m => !m.Key.StartsWith("time_") && m.Key is not ("seconds" or "tokens_per_s")).Select(m => $"{m.Key}={m.Value:R}")));

    [Fact]
    public void An_adapter_folder_as_policy_is_its_base_with_that_adapter_as_PEFT_reads_it()
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("gpt2");
        string sft = SftAdapterFolder(policy), rm = RewardModelFolder(policy);
        string viaAdapter = Path.Combine(TestPaths.NewTempDirectory(), "ppo"), viaPolicy = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        AssertSucceeded(Ppo(policy, rm, viaAdapter, ["--adapter", sft, "--lora-r", "4", .. Moving]));
        var result = Ppo(sft, rm, viaPolicy, ["--lora-r", "4", .. Moving]);
        AssertSucceeded(result);
        Assert.Contains($"continuing the adapter {sft}", result.Output);
        Assert.Contains($"as a LoRA adapter on {policy}", result.Output);
        // The same seeded run: the same metrics and the same saved adapter, naming the base.
        Assert.Equal(SeededMetrics(viaAdapter), SeededMetrics(viaPolicy));
        Assert.Equal(File.ReadAllBytes(Path.Combine(viaAdapter, PeftAdapter.WeightsFile)), File.ReadAllBytes(Path.Combine(viaPolicy, PeftAdapter.WeightsFile)));
        Assert.Equal(policy, PeftAdapter.ReadConfig(viaPolicy).BaseModel);
        // Either start is recorded as the same, so a resume may give it either way.
        static string? Recorded(string dir, string key) => (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run.json")))![key];
        Assert.Equal((Recorded(viaAdapter, "policy"), Recorded(viaAdapter, "adapter")), (Recorded(viaPolicy, "policy"), Recorded(viaPolicy, "adapter")));
    }
}
