using RlhfSharp.Cli.Demo;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tests.Models;

namespace RlhfSharp.Tests.Demo;

/// <summary>The demo's KL to SFT: each sampled response's log p_policy - log p_reference, read at the right positions.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class KlEstimateTests
{
    static IReadOnlyList<GeneratedSequence> Sample(CausalLanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts) =>
        new TextGenerator(model).Generate(prompts,
            new SamplingOptions { MaxNewTokens = 6, Seed = 3, StopAtEos = false }, firstIndex: 0);

    [Fact]
    public void Response_log_probs_are_the_generators_own_so_a_model_has_no_kl_to_itself()
    {
        using var model = TinyModels.Create("gpt2", seed: 11);
        var samples = Sample(model, [[5, 9, 2], [7], [1, 2, 3, 4, 5]]);
        foreach (var sample in samples)
        {
            Assert.Equal(6, sample.TokenIds.Count);
            // Off by one position (logits of the token itself, or of the one before the last prompt token) gives other numbers.
            var logProbs = KlEstimate.ResponseLogProbs(model, sample.PromptIds, sample.TokenIds);
            Assert.Equal(sample.LogProbs.Count, logProbs.Length);
            for (int t = 0; t < logProbs.Length; t++) Assert.Equal(sample.LogProbs[t], logProbs[t], 1e-4f);
        }
        Assert.All(KlEstimate.LogRatios(samples, model), ratio => Assert.Equal(0, ratio, 1e-3));
    }

    [Fact]
    public void Log_ratios_are_the_policys_log_probs_minus_the_references_summed_over_the_response()
    {
        using var policy = TinyModels.Create("gpt2", seed: 11);
        using var reference = TinyModels.Create("gpt2", seed: 12);
        var samples = Sample(policy, [[5, 9, 2], [7]]);
        var ratios = KlEstimate.LogRatios(samples, reference);
        for (int i = 0; i < samples.Count; i++)
        {
            double expected = samples[i].LogProbs.Sum(p => (double)p) - KlEstimate.ResponseLogProbs(reference, samples[i].PromptIds, samples[i].TokenIds).Sum(p => (double)p);
            Assert.Equal(expected, ratios[i], 1e-9);
            Assert.NotEqual(0, ratios[i], 1e-2); // two different random models do disagree
        }
    }

    [Fact]
    public void Mean_and_standard_error_match_hand_computed_values()
    {
        // [1, 3, 2]: mean 2; sample variance ((1-2)^2 + (3-2)^2 + 0) / 2 = 1; standard error sqrt(1 / 3) = 0.57735.
        var (mean, error) = KlEstimate.MeanAndStandardError([1.0, 3.0, 2.0]);
        Assert.Equal(2, mean, 1e-12);
        Assert.Equal(0.5773502692, error, 1e-9);
        Assert.Equal((4.0, 0.0), KlEstimate.MeanAndStandardError([4.0]));
    }
}
