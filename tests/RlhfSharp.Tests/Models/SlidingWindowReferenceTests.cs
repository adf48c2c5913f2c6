using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Tests.Benchmarks;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>
/// Our logits for tiny random Mistral checkpoints against reference_mistral.py, a plain-PyTorch forward pass written
/// from the published architecture that reads the same saved config.json and safetensors. Skipped where no python3
/// imports torch.
/// </summary>
public class SlidingWindowReferenceTests
{
    const double Tolerance = 1e-4;

    static string Script => Path.Combine(TestPaths.RepositoryRoot, "tests", "RlhfSharp.Tests", "Models", "reference_mistral.py");

    /// <summary>Two rows of 24 tokens: eight times the window of 3.</summary>
    static readonly long[][] Rows = [.. Enumerable.Range(0, 2).Select(r => Enumerable.Range(0, 24).Select(t => (long)((r * 131 + t * 17 + t * t * 7) % 97)).ToArray())];

    /// <summary>Weights ten times Hugging Face's initial scale: attention is sharp, so which keys it reads moves the
    /// logits by far more than the tolerance.</summary>
    static CausalLanguageModel Sharpened(string variant)
    {
        var model = TinyModels.Create(variant);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            if (name.EndsWith(".weight") && !name.Contains("norm")) parameter.mul_(10);
        return model;
    }

    static Tensor ReferenceLogits(string directory)
    {
        var start = new ProcessStartInfo(PytorchFactAttribute.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { Script, directory, JsonSerializer.Serialize(Rows) }) start.ArgumentList.Add(arg);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"reference_mistral.py failed (exit {process.ExitCode}): {error.Result}");
        var answer = JsonNode.Parse(output)!.AsObject();
        return tensor(answer["logits"]!.AsArray().Select(n => (float)n!).ToArray()).view(answer["shape"]!.AsArray().Select(n => (long)n!).ToArray());
    }

    static Tensor Ids() => tensor(Rows.SelectMany(r => r).ToArray()).view(Rows.Length, Rows[0].Length);

    /// <summary>Saves the sharpened variant, loads it back as a user would, and returns the loaded model, our logits and
    /// the reference's for <see cref="Rows"/>, after checking that they agree.</summary>
    static (CausalLanguageModel Loaded, Tensor Reference) AssertMatchesReference(string variant)
    {
        using var model = Sharpened(variant);
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        var loaded = CausalLanguageModel.FromPretrained(dir);
        using var ids = Ids();
        using var noGrad = no_grad();
        using var ours = loaded.call(new DecoderInput(ids));
        var reference = ReferenceLogits(dir);
        Assert.Equal(reference.shape, ours.shape);
        double difference = (ours - reference).abs().max().item<float>();
        Assert.True(difference <= Tolerance, $"{variant}: max |ours - reference| = {difference}");
        return (loaded, reference);
    }

    [PytorchFact]
    public void Windowed_logits_match_the_reference_and_differ_from_full_attention()
    {
        var (loaded, reference) = AssertMatchesReference("mistral");
        using var _ = loaded;
        using var __ = reference;
        // The same weights without the window: far outside the tolerance, so the match is the window's doing.
        using var unwindowed = new CausalLanguageModel(loaded.Config with { SlidingWindow = null });
        unwindowed.load_state_dict(loaded.state_dict());
        unwindowed.eval();
        using var noGrad = no_grad();
        using var ids = Ids();
        using var full = unwindowed.call(new DecoderInput(ids));
        Assert.True((full - reference).abs().max().item<float>() > 100 * Tolerance, "the window made no difference");
    }

    [PytorchFact]
    public void A_full_attention_mistral_matches_the_reference()
    {
        var (loaded, reference) = AssertMatchesReference("mistral_full_attention");
        loaded.Dispose();
        reference.Dispose();
    }
}
