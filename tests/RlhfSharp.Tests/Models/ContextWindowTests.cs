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

    [Theory]
    [InlineData("gpt2", "n_positions")]
    [InlineData("gptj", "n_positions")]
    [InlineData("gpt_neox", "max_position_embeddings")]
    [InlineData("llama", "max_position_embeddings")]
    public void The_context_is_the_configs_position_count(string variant, string field)
    {
        var json = TinyModels.ConfigJson(variant);
        json[field] = 300;
        Assert.Equal(new ContextWindow(300), ContextWindow.Of(ModelConfig.FromJson(json)));
    }

    [Theory]
    [InlineData(512, 256, 256, "--max-length 512 is longer than the model's context of 256 positions; using 256")]
    [InlineData(257, 256, 256, "--max-length 257 is longer than the model's context of 256 positions; using 256")]
    [InlineData(256, 256, 256, null)]
    [InlineData(100, 256, 100, null)]
    public void A_length_above_the_context_is_lowered_to_it_with_a_note(int requested, int context, int expected, string? note) =>
        Assert.Equal(new LengthFit(expected, note), new ContextWindow(context).Cap("--max-length", requested));

    [Theory]
    [InlineData(256, 64, 192)]
    [InlineData(256, 255, 1)]
    [InlineData(64, 1, 63)]
    public void The_prompt_room_is_the_context_minus_the_new_tokens(int context, int maxNewTokens, int room) =>
        Assert.Equal(room, new ContextWindow(context).PromptRoom(maxNewTokens));

    [Theory]
    [InlineData(256)]
    [InlineData(300)]
    public void New_tokens_that_fill_the_context_are_refused_naming_the_option_and_the_context(int maxNewTokens)
    {
        var error = Assert.Throws<InvalidOptionException>(() => new ContextWindow(256, "--model-b /m's").PromptRoom(maxNewTokens));
        Assert.Equal((nameof(SamplingOptions.MaxNewTokens), "max_new_tokens", (object?)maxNewTokens), (error.Property, error.Key, error.Value));
        Assert.Equal("leaves no room for a prompt in --model-b /m's context of 256 positions; use at most 255", error.Rule);
    }

    [Theory]
    [InlineData(512, 64, 192, "--max-length 512 is more than the 192 prompt tokens the model's context of 256 positions leaves beside --max-new-tokens 64; using 192")]
    [InlineData(193, 64, 192, "--max-length 193 is more than the 192 prompt tokens the model's context of 256 positions leaves beside --max-new-tokens 64; using 192")]
    [InlineData(192, 64, 192, null)]
    [InlineData(48, 64, 48, null)]
    public void A_prompt_length_is_lowered_to_the_prompt_room(int requested, int maxNewTokens, int expected, string? note) =>
        Assert.Equal(new LengthFit(expected, note), new ContextWindow(256).CapPrompt("--max-length", requested, maxNewTokens));

    [Fact]
    public void A_prompt_length_with_no_room_beside_the_new_tokens_is_refused_even_when_short() =>
        Assert.Equal("max_new_tokens", Assert.Throws<InvalidOptionException>(() => new ContextWindow(256).CapPrompt("--max-length", 10, 256)).Key);
}
