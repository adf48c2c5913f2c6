using System.Text.Json;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Benchmarks;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models.Lora;

/// <summary>
/// PEFT-layout adapter folders against peft_reference.py, an independent plain-PyTorch writer and reader of PEFT's
/// layout (its forward pass is reference_decoder.py with W + scale·B·A folded into the targeted projections): an
/// adapter the script draws loads here to the script's logits, and one saved here gives the script our logits. Each
/// also checks that the base alone is far outside the tolerance, so the match is the adapter's doing. Skipped where no
/// python3 imports torch.
/// </summary>
public class PeftReferenceTests(ITestOutputHelper output)
{
    /// <summary>float32 sums in another order, over logits of size 1-10 (both sides are within 1e-5 of a float64 reference).</summary>
    const double Tolerance = 1e-5;

    static string Script => Path.Combine(TestPaths.RepositoryRoot, "tests", "RlhfSharp.Tests", "Models", "Lora", "peft_reference.py");

    static string IdsJson => JsonSerializer.Serialize(ReferenceDecoderTests.Rows);

    static Tensor Logits(CausalLanguageModel model)
    {
        using var ids = ReferenceDecoderTests.Ids();
        using var noGrad = no_grad();
        return model.call(new DecoderInput(ids));
    }

    static double MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    void AssertMatch(string what, Tensor ours, Tensor reference, Tensor baseLogits)
    {
        Assert.Equal(reference.shape, ours.shape);
        double difference = MaxDifference(ours, reference), moved = MaxDifference(baseLogits, reference);
        output.WriteLine($"{what}: max |ours - script| = {difference:E2}; the base alone is {moved:F3} away; max |logit| {reference.abs().max().item<float>():F1}");
        Assert.True(difference <= Tolerance, $"{what}: max |ours - script| = {difference}");
        Assert.True(moved > 100 * Tolerance, $"{what}: the adapter moves the logits by only {moved}");
    }

    /// <summary>A sharpened tiny model saved as the base both sides read.</summary>
    static (CausalLanguageModel Model, string Directory) SavedBase(string variant)
    {
        var model = ReferenceDecoderTests.Sharpened(variant);
        string dir = TestPaths.NewTempDirectory($"peft-base-{variant}");
        model.SavePretrained(dir);
        return (model, dir);
    }

    [PytorchTheory]
    [InlineData("gpt2", """["c_attn", "c_proj", "c_fc"]""", false)]          // Conv1D: fan_in_fan_out
    [InlineData("llama", """["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]""", true)] // rsLoRA
    [InlineData("qwen2", "\"model\\\\.layers\\\\.1\\\\.(self_attn\\\\.[qv]_proj|mlp\\\\.down_proj)\"", false)] // a regular expression
    [InlineData("phi3", """["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]""", false)]  // fused projections
    [InlineData("gpt_neox", """["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]""", false)]
    [InlineData("gpt_neox_sequential", "\"all-linear\"", false)]              // every linear layer but embed_out
    public void An_adapter_the_script_writes_in_PEFTs_layout_loads_here_to_the_scripts_logits(string variant, string targets, bool rslora)
    {
        var (model, baseDir) = SavedBase(variant);
        model.Dispose();
        string adapterDir = Path.Combine(TestPaths.NewTempDirectory(), "adapter");
        string spec = $$"""{"r": 4, "lora_alpha": 8, "target_modules": {{targets}}, "use_rslora": {{(rslora ? "true" : "false")}}, "seed": 7}""";
        using var reference = ReferenceDecoderTests.RunForLogits(Script, "write", baseDir, adapterDir, spec, IdsJson);

        using var loaded = CausalLanguageModel.FromPretrained(baseDir);
        using var baseLogits = Logits(loaded);
        var config = PeftAdapter.Load(loaded, adapterDir);
        Assert.Equal(rslora, config.Settings.UseRslora);
        using var ours = Logits(loaded);
        AssertMatch($"{variant} {targets}{(rslora ? " rslora" : "")} ({LoraModel.Adapters(loaded).Count} adapters)", ours, reference, baseLogits);
    }

    public static TheoryData<string, LoraSettings> SavedAdapters() => new()
    {
        { "gpt2", new LoraSettings(4, 8, 0, [LoraSettings.AllLinear]) },
        { "llama", new LoraSettings(4, 8, 0, ["q_proj", "v_proj", "down_proj"], UseRslora: true) },
        { "qwen2", new LoraSettings(2, 4, 0, [], TargetPattern: @"model\.layers\.0\.(self_attn\.k_proj|mlp\.up_proj)") },
        { "phi3", new LoraSettings(4, 16, 0, [LoraSettings.AllLinear]) },
        { "gpt_neox", new LoraSettings(4, 8, 0, [LoraSettings.AllLinear]) },
    };

    [PytorchTheory, MemberData(nameof(SavedAdapters))]
    public void An_adapter_saved_here_gives_our_logits_in_the_script(string variant, LoraSettings settings)
    {
        var (model, baseDir) = SavedBase(variant);
        using var _ = model;
        LoraModel.Attach(model, settings);
        manual_seed(11);
        using (no_grad())
            foreach (var (_, adapter) in LoraModel.Adapters(model))
            {
                adapter.A.weight!.normal_(0, 0.1);
                adapter.B.weight!.normal_(0, 0.1);
            }
        using var ours = Logits(model);
        Tensor baseLogits;
        using (LoraModel.Disabled(model)) baseLogits = Logits(model);
        using var __ = baseLogits;
        string adapterDir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, adapterDir, PeftAdapter.CausalLm, baseDir);

        using var reference = ReferenceDecoderTests.RunForLogits(Script, "apply", baseDir, adapterDir, IdsJson);
        AssertMatch($"{variant} saved ({LoraModel.Adapters(model).Count} adapters)", ours, reference, baseLogits);
    }
}
