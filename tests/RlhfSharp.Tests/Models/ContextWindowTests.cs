using RlhfSharp.Generation;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>A model's context is its config's positions (n_positions, max_position_embeddings) in every dialect, and the lengths commands derive from it.</summary>
public class ContextWindowTests
{
    public static TheoryData<string> Variants => [.. TinyModels.Variants];

    [Theory]
    [MemberData(nameof(Variants))]
    public void A_forward_pass_longer_than_the_context_is_refused_in_every_dialect(string variant)
    {
        using var model = TinyModels.Create(variant); // 64 positions
        using var fits = model.call(new DecoderInput(randint(0, 97, [1, 64], ScalarType.Int64)));
        Assert.Equal(64, fits.shape[1]);
        // Before: only GPT-2's learned position table refused; rotary models ran on past the positions they were trained for.
        var error = Assert.ThrowsAny<RlhfException>(() => model.call(new DecoderInput(randint(0, 97, [1, 65], ScalarType.Int64))).Dispose());
        Assert.Equal("sequence of 65 positions exceeds the model's context of 64 positions", error.Message);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Generation_past_the_context_is_refused_before_it_starts_in_every_dialect(string variant)
    {
        using var model = TinyModels.Create(variant); // 64 positions
        var error = Assert.ThrowsAny<RlhfException>(() => new TextGenerator(model).Generate([Enumerable.Range(1, 60).ToList()], new SamplingOptions { MaxNewTokens = 5, Greedy = true }));
        Assert.Equal("prompt of 60 tokens + 5 new tokens exceeds the model's context of 64 positions", error.Message);
        Assert.Equal(4, new TextGenerator(model).Generate([Enumerable.Range(1, 60).ToList()], new SamplingOptions { MaxNewTokens = 4, Greedy = true, StopAtEos = false })[0].TokenIds.Count);
    }
}
