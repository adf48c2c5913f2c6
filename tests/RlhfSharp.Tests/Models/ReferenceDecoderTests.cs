using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Tests.Benchmarks;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>
/// Our logits for tiny random checkpoints of each dialect (GPT-J aside) against reference_decoder.py, a plain-PyTorch
/// forward pass written from the published architectures, which reads the same saved config.json and safetensors.
/// Skipped where no python3 imports torch.
/// </summary>
public class ReferenceDecoderTests
{
    const double Tolerance = 1e-4;

    internal static string Script => Path.Combine(TestPaths.RepositoryRoot, "tests", "RlhfSharp.Tests", "Models", "reference_decoder.py");

    /// <summary>Two rows of 40 tokens: well past the llama3 variant's original context of 16 positions.</summary>
    internal static readonly long[][] Rows = [.. Enumerable.Range(0, 2).Select(r => Enumerable.Range(0, 40).Select(t => (long)((r * 131 + t * 17 + t * t * 7) % 97)).ToArray())];

    internal static Tensor Ids() => tensor(Rows.SelectMany(r => r).ToArray()).view(Rows.Length, Rows[0].Length);

    /// <summary>
    /// A tiny random model with weights (norms aside) ten times Hugging Face's initial scale, so attention is sharp and positions
    /// (hence rope scaling and the rotated dims) change the logits by far more than the tolerance.
    /// </summary>
    internal static CausalLanguageModel Sharpened(string variant)
    {
        var model = TinyModels.Create(variant);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            if (name.EndsWith(".weight") && !name.Contains("norm") && !name.Contains(".ln_")) parameter.mul_(10);
        return model;
    }

    /// <summary>The reference's logits [batch, time, vocab] for the checkpoint in <paramref name="directory"/>.</summary>
    static Tensor ReferenceLogits(string directory) => RunForLogits(Script, directory, JsonSerializer.Serialize(Rows));

    /// <summary>Runs a reference script and reads the logits it prints as {"shape": [...], "logits": [...]}.</summary>
    internal static Tensor RunForLogits(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(PytorchFactAttribute.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(script)} failed (exit {process.ExitCode}): {error.Result}");
        var answer = JsonNode.Parse(output)!.AsObject();
        long[] shape = answer["shape"]!.AsArray().Select(n => (long)n!).ToArray();
        float[] logits = answer["logits"]!.AsArray().Select(n => (float)n!).ToArray();
        return tensor(logits).view(shape);
    }

    static double MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    /// <summary>
    /// Saves the sharpened variant, loads it back as a user would and compares our logits with the reference's. With
    /// <paramref name="withoutFeature"/>, the same weights under a config lacking the feature must give logits far outside
    /// the tolerance, so the match shows the feature is computed as published rather than ignored.
    /// </summary>
    static void AssertMatchesReference(string variant, Func<ModelConfig, ModelConfig>? withoutFeature = null)
    {
        using var model = Sharpened(variant);
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        using var loaded = CausalLanguageModel.FromPretrained(dir);
        using var ids = Ids();
        using var ours = loaded.call(new DecoderInput(ids));
        using var reference = ReferenceLogits(dir);
        Assert.Equal(reference.shape, ours.shape);
        double difference = MaxDifference(ours, reference);
        Assert.True(difference <= Tolerance, $"{variant}: max |ours - reference| = {difference}");
        Assert.True(reference.abs().max().item<float>() > 1, "logits large enough for the tolerance to mean something");
        if (withoutFeature is null) return;

        using var other = new CausalLanguageModel(withoutFeature(model.Config));
        other.load_state_dict(model.state_dict(), strict: false); // a config without biases has no place for them
        other.eval();
        using var otherLogits = other.call(new DecoderInput(ids));
        double moved = MaxDifference(otherLogits, ours);
        Assert.True(moved > 100 * Tolerance, $"{variant}: without the feature the logits move by only {moved}");
    }

    [PytorchFact]
    public void Llama_matches_the_reference() => AssertMatchesReference("llama");

    [PytorchFact]
    public void Gpt2_matches_the_reference() => AssertMatchesReference("gpt2");

    [PytorchFact]
    public void GptNeoX_matches_the_reference_and_its_parallel_residual_matters() =>
        AssertMatchesReference("gpt_neox", c => c with { ParallelResidual = false });

    [PytorchFact]
    public void GptNeoX_with_a_sequential_residual_matches_the_reference() => AssertMatchesReference("gpt_neox_sequential");

    [PytorchFact]
    public void Llama_with_llama3_rope_scaling_matches_the_reference_and_differs_from_plain_rope() =>
        AssertMatchesReference("llama3_rope", c => c with { RopeScaling = null });

    [PytorchFact]
    public void Llama_with_linear_rope_scaling_matches_the_reference_and_differs_from_plain_rope() =>
        AssertMatchesReference("llama_linear_rope", c => c with { RopeScaling = null });

    [PytorchFact]
    public void Qwen2_matches_the_reference_and_its_qkv_biases_matter() =>
        AssertMatchesReference("qwen2", c => c with { AttentionBias = false });

    [PytorchFact]
    public void Qwen2_with_a_tied_head_matches_the_reference() => AssertMatchesReference("qwen2_tied");

    [PytorchFact]
    public void Phi3_matches_the_reference() => AssertMatchesReference("phi3");

    [PytorchFact]
    public void Phi3_with_partial_rotary_matches_the_reference_and_differs_from_full_rotary() =>
        AssertMatchesReference("phi3_partial_rotary", c => c with { RotaryDim = c.HeadDim });

    [PytorchFact]
    public void Mistral_matches_the_reference_and_its_window_matters() =>
        AssertMatchesReference("mistral", c => c with { SlidingWindow = null });

    [PytorchFact]
    public void Mistral_with_full_attention_matches_the_reference() => AssertMatchesReference("mistral_full_attention");

    [PytorchFact]
    public void Qwen2_with_a_window_on_its_top_layer_matches_the_reference_and_the_window_matters() =>
        AssertMatchesReference("qwen2_window", c => c with { SlidingWindow = null });

    [PytorchFact]
    public void Qwen2_window_stays_off_the_layers_below_max_window_layers() =>
        AssertMatchesReference("qwen2_window", c => c with { FirstSlidingWindowLayer = 0 });

    [PytorchFact]
    public void Phi3_with_a_window_shorter_than_its_context_matches_the_reference_and_the_window_matters() =>
        AssertMatchesReference("phi3_window", c => c with { SlidingWindow = null });
}
