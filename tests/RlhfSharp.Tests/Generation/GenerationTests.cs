using RlhfSharp.Generation;
using RlhfSharp.Native;
using RlhfSharp.Tests.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Generation;

public class GenerationTests
{
    static readonly IReadOnlyList<IReadOnlyList<int>> Prompts = [[5, 17, 3], [1, 2, 3, 4, 5, 6, 7]];

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama_gqa_tied")]
    [InlineData("gptj")]
    [InlineData("llama3_rope")]
    [InlineData("qwen2")]
    [InlineData("phi3_partial_rotary")]
    [InlineData("mistral")] // window 3: both prompts and all 8 new tokens run past it
    [InlineData("qwen2_window")]
    [InlineData("phi3_window")]
    public void Cached_and_uncached_generation_agree(string variant)
    {
        using var model = TinyModels.Create(variant);
        var generator = new TextGenerator(model);
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 8, StopAtEos = false };
        var cached = generator.Generate(Prompts, options);
        var uncached = generator.Generate(Prompts, options with { UseCache = false });
        for (int i = 0; i < Prompts.Count; i++)
        {
            Assert.Equal(uncached[i].TokenIds, cached[i].TokenIds);
            Assert.Equal(uncached[i].LogProbs, cached[i].LogProbs, new FloatComparer(1e-4f));
        }
    }

    [Theory]
    [InlineData("gpt2")] // Conv1D projections, tied head
    [InlineData("llama")] // nn.Linear projections, untied head
    public void A_batch_whose_steps_take_the_openblas_path_samples_as_libtorch_and_full_recompute_do(string variant)
    {
        using var model = TinyModels.Create(variant);
        var generator = new TextGenerator(model);
        using var anySize = SkinnyGemm.AnyWeightSize(); // the tiny model's weights are below the path's floor
        // One row more than the path's fewest: every cached step multiplies MinRows + 1 rows.
        var prompts = Enumerable.Range(0, SkinnyGemm.MinRows + 1).Select(i => (IReadOnlyList<int>)[.. Prompts[i % 2].Select(t => (t + 7 * i) % 96)]).ToList();
        var options = new SamplingOptions { MaxNewTokens = 10, Temperature = 1.5, StopAtEos = false, Seed = 7 };
        var fast = generator.Generate(prompts, options);
        IReadOnlyList<GeneratedSequence> libTorch;
        using (SkinnyGemm.UseLibTorch()) libTorch = generator.Generate(prompts, options);
        var recomputed = generator.Generate(prompts, options with { UseCache = false });
        for (int i = 0; i < prompts.Count; i++)
        {
            Assert.Equal(libTorch[i].TokenIds, fast[i].TokenIds);
            Assert.Equal(libTorch[i].LogProbs, fast[i].LogProbs, new FloatComparer(1e-5f));
            Assert.Equal(recomputed[i].TokenIds, fast[i].TokenIds);
            Assert.Equal(recomputed[i].LogProbs, fast[i].LogProbs, new FloatComparer(1e-5f));
        }
    }

    [Theory]
    [InlineData("gpt_neox")]
    [InlineData("mistral")]
    public void A_padded_row_generates_what_it_generates_alone(string variant)
    {
        using var model = TinyModels.Create(variant);
        var generator = new TextGenerator(model);
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 6, StopAtEos = false };
        var together = generator.Generate(Prompts, options);
        var alone = generator.Generate([Prompts[0]], options);
        Assert.Equal(alone[0].TokenIds, together[0].TokenIds);
    }

    [Fact]
    public void Sampling_is_reproducible_for_a_seed_and_varies_across_seeds()
    {
        using var model = TinyModels.Create("gpt2");
        var generator = new TextGenerator(model);
        var options = new SamplingOptions { MaxNewTokens = 12, Temperature = 1.5, StopAtEos = false, Seed = 7 };
        var first = generator.Generate(Prompts, options);
        var again = generator.Generate(Prompts, options);
        var other = generator.Generate(Prompts, options with { Seed = 8 });
        Assert.Equal(first[1].TokenIds, again[1].TokenIds);
        Assert.NotEqual(first[1].TokenIds, other[1].TokenIds);
    }

    [Fact]
    public void Each_row_samples_from_its_own_stream()
    {
        using var model = TinyModels.Create("gpt2");
        var generator = new TextGenerator(model);
        var options = new SamplingOptions { MaxNewTokens = 12, Temperature = 1.5, StopAtEos = false, Seed = 7 };
        var pair = generator.Generate(Prompts, options);
        // What else is in the batch does not change a row's draws...
        Assert.Equal(pair[1].TokenIds, generator.Generate([Prompts[0], Prompts[1], Prompts[0]], options)[1].TokenIds);
        Assert.Equal(pair[0].TokenIds, generator.Generate([Prompts[0]], options)[0].TokenIds);
        // ...and the same prompt twice gives two independent draws.
        var twice = generator.Generate([Prompts[1], Prompts[1]], options);
        Assert.NotEqual(twice[0].TokenIds, twice[1].TokenIds);
    }

    [Fact]
    public void Generation_stops_at_eos_and_keeps_it()
    {
        using var model = TinyModels.Create("gpt2");
        var generator = new TextGenerator(model);
        var greedy = new SamplingOptions { Greedy = true, MaxNewTokens = 5, StopAtEos = false };
        int firstToken = generator.Generate([Prompts[0]], greedy)[0].TokenIds[0];
        // Make the first greedy token the end-of-sequence token: generation must stop right there.
        var eosModelConfig = model.Config with { EosTokenId = firstToken };
        using var eosModel = new RlhfSharp.Models.CausalLanguageModel(eosModelConfig);
        eosModel.load_state_dict(model.state_dict());
        var result = new TextGenerator(eosModel).Generate([Prompts[0]], greedy with { StopAtEos = true })[0];
        Assert.Equal([firstToken], result.TokenIds);
        Assert.Equal(FinishReason.EndOfSequence, result.FinishReason);
    }

    [Fact]
    public void A_run_past_learned_positions_is_refused_before_it_starts()
    {
        using var model = TinyModels.Create("gpt2"); // 64 positions
        var error = Assert.ThrowsAny<RlhfException>(() => new TextGenerator(model).Generate([Enumerable.Range(1, 60).ToList()], new SamplingOptions { MaxNewTokens = 10 }));
        Assert.Contains("exceeds the model's context of 64 positions", error.Message);
    }

    [Fact]
    public void Invalid_options_are_refused_with_a_clear_message()
    {
        Assert.Contains("--temperature is 0", Assert.ThrowsAny<RlhfException>(() => new SamplingOptions { Temperature = 0 }.Validate()).Message);
        Assert.Contains("--top-p is 1.5", Assert.ThrowsAny<RlhfException>(() => new SamplingOptions { TopP = 1.5 }.Validate()).Message);
        Assert.Contains("--max-new-tokens is 0", Assert.ThrowsAny<RlhfException>(() => new SamplingOptions { MaxNewTokens = 0 }.Validate()).Message);
    }

    [Fact]
    public void An_empty_stop_sequence_is_refused_for_every_command_that_samples()
    {
        // It would match at every position: each row would end after one token with no text.
        Assert.Contains("--stop-sequences is \"\": must not hold an empty string",
            Assert.ThrowsAny<RlhfException>(() => new SamplingOptions { StopSequences = ["\n\nHuman:", ""] }.Validate()).Message);
    }

    [Fact]
    public void Stop_sequence_index_finds_the_earliest_match()
    {
        Assert.Equal(5, TextGenerator.StopSequenceIndex("Sure.\n\nHuman: hi", ["\n\nHuman:", "\n"]));
        Assert.Equal(-1, TextGenerator.StopSequenceIndex("no stop here", ["\n\nHuman:"]));
    }
}
