using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

public class SharedBottomReferenceTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama_gqa_tied")]
    [InlineData("gptj")]
    [InlineData("qwen2")]
    [InlineData("phi3")]
    [InlineData("mistral")]
    [InlineData("mistral_from_layer_1")] // only the top layer windowed (Qwen2's max_window_layers): the window must stay on it
    public void Shared_bottom_reference_gives_the_full_references_logits_with_fewer_parameters(string variant)
    {
        using var policy = variant == "mistral_from_layer_1"
            ? new CausalLanguageModel(TinyModels.Config("mistral") with { FirstSlidingWindowLayer = 1 })
            : TinyModels.Create(variant);
        using var copy = new CausalLanguageModel(policy.Config);
        copy.load_state_dict(policy.state_dict()); // a copy, not a second seeded draw: other tests share the generator
        using var full = new FullReference(copy);
        using var shared = new SharedBottomReference(policy, sharedLayers: 1);
        // Rows longer than the tiny Mistral's window of 3.
        using var ids = tensor(new long[] { 0, 5, 17, 3, 60, 2, 4, 8, 9, 10, 11, 12 }).view(2, 6);
        using var mask = tensor(new long[] { 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }).view(2, 6);
        using var noGrad = no_grad();
        using var expected = full.Logits(new DecoderInput(ids, mask));
        using var actual = shared.Logits(new DecoderInput(ids, mask));
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.True(shared.ParameterBytes < full.ParameterBytes);
        Assert.All(policy.named_parameters().Where(p => p.name.Contains(".0.")), p => Assert.False(p.parameter.requires_grad));
    }
}
