using RlhfSharp.Generation;
using RlhfSharp.Generation.FusedDecode;
using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Generation.FusedDecode;

/// <summary>Generation of one sequence gives the same tokens, log-probabilities and hidden states with the fused step as through the modules.</summary>
public class FusedDecodeGenerationTests
{
    static readonly IReadOnlyList<IReadOnlyList<int>> OnePrompt = [[5, 17, 3, 40]];

    public static TheoryData<string, bool> Cases => new()
    {
        { "gpt2", true }, { "gpt2", false }, { "llama_gqa_tied", true }, { "llama_gqa_tied", false },
        { "qwen2", true }, { "qwen2", false }, { "llama3_rope", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Greedy_and_seeded_sampling_give_the_same_tokens_fused_and_through_the_modules(string variant, bool greedy)
    {
        using var model = TinyModels.Create(variant);
        var options = greedy
            ? new SamplingOptions { Greedy = true, MaxNewTokens = 12, StopAtEos = false }
            : new SamplingOptions { MaxNewTokens = 12, Temperature = 1.3, TopK = 40, TopP = 0.95, StopAtEos = false, Seed = 11 };
        AssertSameGeneration(model, options);
    }

    [Fact]
    public void The_real_tiny_gpt2_generates_the_same_text_fused_and_through_the_modules()
    {
        using var model = CausalLanguageModel.FromPretrained(TinyRandomGpt2Tests.ModelDir);
        AssertSameGeneration(model, new SamplingOptions { Greedy = true, MaxNewTokens = 10, StopAtEos = false });
        AssertSameGeneration(model, new SamplingOptions { MaxNewTokens = 10, Temperature = 0.8, StopAtEos = false, Seed = 3 });
    }

    [Fact]
    public void The_hidden_states_handed_to_a_value_head_are_the_modules()
    {
        using var model = TinyModels.Create("qwen2");
        var options = new SamplingOptions { MaxNewTokens = 6, Temperature = 1.0, StopAtEos = false, Seed = 5 };
        var (fused, fusedHidden) = GenerateCollectingHidden(model, options, modules: false);
        var (modules, modulesHidden) = GenerateCollectingHidden(model, options, modules: true);
        Assert.Equal(modules[0].TokenIds, fused[0].TokenIds);
        Assert.Equal(modulesHidden.Count, fusedHidden.Count);
        for (int i = 0; i < modulesHidden.Count; i++)
        {
            using var expected = tensor(modulesHidden[i]);
            using var actual = tensor(fusedHidden[i]);
            FusedSingleSequenceStepTests.AssertClose(expected, actual, $"hidden state before token {i}");
        }
    }

    [Fact]
    public void Two_sequences_a_model_it_declines_and_no_cache_keep_the_module_path()
    {
        using var model = TinyModels.Create("gpt2");
        var generator = new TextGenerator(model);
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 4, StopAtEos = false };
        generator.Generate(OnePrompt, options);
        Assert.True(generator.LastRunFused);
        generator.Generate([OnePrompt[0], [1, 2]], options);
        Assert.False(generator.LastRunFused);
        generator.Generate(OnePrompt, options with { UseCache = false });
        Assert.False(generator.LastRunFused);
        using (FusedDecodeSwitch.UseModules()) generator.Generate(OnePrompt, options);
        Assert.False(generator.LastRunFused);

        using var gptj = TinyModels.Create("gptj");
        var declined = new TextGenerator(gptj);
        declined.Generate(OnePrompt, options);
        Assert.False(declined.LastRunFused);
        Assert.Contains("GptJ", declined.LastFusedDecline);
    }

    [Fact]
    public void Stopping_at_an_end_token_stops_at_the_same_place()
    {
        using var model = TinyModels.Create("llama_gqa_tied");
        // A seeded sample's first token not drawn before it (after the first), made the end token, must end both runs there.
        var options = new SamplingOptions { MaxNewTokens = 8, Temperature = 1.5, StopAtEos = false, Seed = 2 };
        IReadOnlyList<int> tokens;
        using (FusedDecodeSwitch.UseModules()) tokens = new TextGenerator(model).Generate(OnePrompt, options)[0].TokenIds;
        int at = Enumerable.Range(1, tokens.Count - 1).First(i => !tokens.Take(i).Contains(tokens[i]));
        using var stopping = new CausalLanguageModel(model.Config with { EosTokenId = tokens[at] });
        stopping.load_state_dict(model.state_dict());
        stopping.eval();
        var result = AssertSameGeneration(stopping, options with { StopAtEos = true });
        Assert.Equal(FinishReason.EndOfSequence, result.FinishReason);
        Assert.Equal(at + 1, result.TokenIds.Count);
    }

    static GeneratedSequence AssertSameGeneration(CausalLanguageModel model, SamplingOptions options)
    {
        var generator = new TextGenerator(model);
        var fused = generator.Generate(OnePrompt, options)[0];
        Assert.True(generator.LastRunFused, generator.LastFusedDecline);
        GeneratedSequence modules;
        using (FusedDecodeSwitch.UseModules()) modules = generator.Generate(OnePrompt, options)[0];
        Assert.False(generator.LastRunFused);
        Assert.Equal(modules.TokenIds, fused.TokenIds);
        Assert.Equal(modules.LogProbs, fused.LogProbs, new FloatComparer(1e-5f));
        Assert.Equal(modules.FinishReason, fused.FinishReason);
        return fused;
    }

    static (IReadOnlyList<GeneratedSequence> Result, List<float[]> Hidden) GenerateCollectingHidden(CausalLanguageModel model, SamplingOptions options, bool modules)
    {
        var hidden = new List<float[]>();
        var generator = new TextGenerator(model)
        {
            NextTokenHidden = h =>
            {
                Assert.Equal(new long[] { 1, model.Config.HiddenSize }, h.shape);
                hidden.Add(h.contiguous().data<float>().ToArray());
            },
        };
        using var path = modules ? FusedDecodeSwitch.UseModules() : null;
        var result = generator.Generate(OnePrompt, options);
        Assert.Equal(!modules, generator.LastRunFused);
        return (result, hidden);
    }
}
