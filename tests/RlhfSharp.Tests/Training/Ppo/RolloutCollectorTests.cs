using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>Rollouts on a tiny random GPT-2 with the real GPT-2 tokenizer, whose random samples rarely re-encode to themselves.</summary>
public class RolloutCollectorTests
{
    /// <summary>Records the responses it is asked to score.</summary>
    sealed class RecordingReward : IRewardFunction
    {
        public List<string> Responses { get; } = [];

        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples)
        {
            var responses = samples.Select(s => s.Completion).ToList();
            Responses.AddRange(responses);
            return responses.Select(r => r.Length / 10.0).ToList();
        }
    }

    static readonly IReadOnlyList<string> Prompts =
        ["\n\nHuman: How do I bake bread?\n\nAssistant:", "\n\nHuman: Hi\n\nAssistant:", "\n\nHuman: What is 2 + 2?\n\nAssistant:", "\n\nHuman: Tell me a joke.\n\nAssistant:"];

    static (RolloutBatch Rollout, IReadOnlyList<GeneratedSequence> Sampled, RecordingReward Reward, ITextTokenizer Tokenizer) Collect(PpoOptions options)
    {
        string dir = TrainingCommandTestsModels.TinyModel;
        var tokenizer = TokenizerLoader.FromDirectory(dir)!;
        using var policy = new PolicyWithValueHead(CausalLanguageModel.FromPretrained(dir, withoutDropout: true));
        using var reference = new FullReference(CausalLanguageModel.FromPretrained(dir, withoutDropout: true));
        var reward = new RecordingReward();
        var collector = new RolloutCollector(policy, reference, tokenizer, reward, options);
        var rollout = collector.Collect(Prompts, seed: 3, beta: 0.05, new PhaseTimes());
        // The same sampling again, to see what the rollout sampled.
        var sampled = new TextGenerator(policy.Policy, tokenizer).Generate(collector.EncodePrompts(Prompts), new SamplingOptions
        {
            MaxNewTokens = options.Sampling.MaxNewTokens, Temperature = options.Sampling.Temperature, TopK = options.Sampling.TopK, TopP = options.Sampling.TopP,
            StopSequences = options.Sampling.StopSequences, Seed = 3,
        });
        return (rollout, sampled, reward, tokenizer);
    }

    /// <summary>
    /// The rollout's old log-probabilities and values come from the sampler (the log-probability of each drawn token, the value
    /// head on the hidden state the step computed); the same rollout with a second pass of the policy over the sampled
    /// sequences gives the same numbers to 1e-5, and so the same rewards, advantages and returns: with temperature and top-k
    /// (the sampler must record the unfiltered distribution, as the second pass computes it), with dropout in the model's
    /// config (rollouts run in eval mode), with responses of different lengths (a stop sequence cuts them; padding), and with
    /// a separate value trunk (then only the value pass runs).
    /// </summary>
    [Theory]
    [InlineData(1.0, 0, null, false, false)]
    [InlineData(0.7, 20, null, false, false)]
    [InlineData(1.0, 0, "e", false, false)]
    [InlineData(1.0, 0, null, true, false)]
    [InlineData(1.0, 0, "e", false, true)]
    public void Old_log_probs_and_values_from_the_sampler_equal_a_second_pass_over_the_sequences(double temperature, int topK, string? stop,
        bool dropout, bool separateValueTrunk)
    {
        string dir = TrainingCommandTestsModels.TinyModel;
        var tokenizer = TokenizerLoader.FromDirectory(dir)!;
        using var policy = new PolicyWithValueHead(CausalLanguageModel.FromPretrained(dir, withoutDropout: !dropout), separateValueTrunk);
        using var reference = new FullReference(CausalLanguageModel.FromPretrained(dir, withoutDropout: true));
        Assert.Equal(dropout, policy.Policy.Config.ResidualDropout > 0);
        RolloutBatch Rollout(bool recompute) =>
            new RolloutCollector(policy, reference, tokenizer, new RecordingReward(), new PpoOptions
            {
                Sampling = new SamplingOptions { MaxNewTokens = 16, Temperature = temperature, TopK = topK, StopSequences = stop is null ? [] : [stop] },
                MaxLength = 64, RecomputeRolloutPasses = recompute,
            }).Collect(Prompts, seed: 3, beta: 0.05, new PhaseTimes());
        using var reused = Rollout(recompute: false);
        using var recomputed = Rollout(recompute: true);

        Assert.True(reused.Ids.eq(recomputed.Ids).all().item<bool>());
        Assert.True(recomputed.LogProbs.abs().sum().item<float>() > 1, "the log-probabilities are not all 0");
        Assert.True(recomputed.Values.abs().sum().item<float>() > 1e-3, "the values are not all 0");
        var lengths = recomputed.ResponseMask.sum(1).data<float>().ToArray();
        if (stop is not null) Assert.True(lengths.Distinct().Count() > 1, $"response lengths {string.Join(", ", lengths)}: no padding");
        foreach (var (name, a, b) in new[]
        {
            ("log_probs", reused.LogProbs, recomputed.LogProbs), ("values", reused.Values, recomputed.Values),
            ("log_ratio", reused.LogRatio, recomputed.LogRatio), ("rewards", reused.Rewards, recomputed.Rewards),
            ("advantages", reused.Advantages, recomputed.Advantages), ("returns", reused.Returns, recomputed.Returns),
        })
        {
            float difference = (a - b).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"{name} differ by {difference}");
        }
    }

    /// <summary>
    /// With a hydra reference and no dropout, the rollout keeps the frozen bottom's output over its sequences, and the policy's
    /// pass from it (the blocks above only, in training mode) equals the whole policy's pass to 1e-5 at every real token. With
    /// dropout (a training pass's bottom would differ from the rollout's) or the recomputing path, nothing is kept.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void A_hydra_rollout_keeps_the_frozen_bottom_for_training_only_without_dropout(bool dropout, bool recompute)
    {
        string dir = TrainingCommandTestsModels.TinyModel;
        var tokenizer = TokenizerLoader.FromDirectory(dir)!;
        using var policy = new PolicyWithValueHead(CausalLanguageModel.FromPretrained(dir, withoutDropout: !dropout));
        using var reference = new SharedBottomReference(policy.Policy, sharedLayers: 1);
        var options = new PpoOptions
        {
            Sampling = new SamplingOptions { MaxNewTokens = 12, StopSequences = ["e"] }, MaxLength = 64, RecomputeRolloutPasses = recompute, FreezeBottomLayers = 1,
        };
        using var rollout = new RolloutCollector(policy, reference, tokenizer, new RecordingReward(), options).Collect(Prompts, seed: 3, beta: 0.05, new PhaseTimes());
        if (dropout || recompute)
        {
            Assert.Null(rollout.FrozenBottom);
            return;
        }
        Assert.NotNull(rollout.FrozenBottom);
        Assert.Equal(1, rollout.FrozenBottomLayers);
        var input = new DecoderInput(rollout.Ids, rollout.AttentionMask);
        policy.train();
        var (hidden, values) = policy.HiddenAndValues(input);
        var (fromBottom, valuesFromBottom) = policy.HiddenAndValuesAbove(rollout.FrozenBottom, 1, input);
        policy.eval();
        var real = rollout.AttentionMask.to(ScalarType.Float32);
        Assert.True(fromBottom.requires_grad, "the blocks above train");
        Assert.True(((hidden - fromBottom).abs() * real.unsqueeze(-1)).max().item<float>() <= 1e-5);
        Assert.True(((values - valuesFromBottom).abs() * real).max().item<float>() <= 1e-5);
    }

    static List<int> TrainedResponse(RolloutBatch rollout, int row)
    {
        int length = (int)rollout.ResponseMask[row].sum().item<float>();
        return Enumerable.Range(0, length).Select(j => (int)rollout.Ids[row, rollout.PromptColumns + j].item<long>()).ToList();
    }

    static string TextWithoutEos(ITextTokenizer tokenizer, IReadOnlyList<int> ids) =>
        tokenizer.Decode(ids.Count > 0 && ids[^1] == tokenizer.Special.EosId ? ids.Take(ids.Count - 1) : ids);

    [Fact]
    public void Trains_on_the_sampled_ids_and_scores_their_text()
    {
        var options = new PpoOptions { Sampling = new SamplingOptions { MaxNewTokens = 16 }, MaxLength = 64 };
        var (rollout, sampled, reward, tokenizer) = Collect(options);
        using var _ = rollout;
        // A case where decoding and encoding again is not the identity.
        Assert.Contains(sampled, s => !tokenizer.Encode(tokenizer.Decode(s.TokenIds)).SequenceEqual(s.TokenIds));
        for (int row = 0; row < Prompts.Count; row++)
        {
            var trained = TrainedResponse(rollout, row);
            Assert.Equal(sampled[row].TokenIds, trained);
            Assert.True(trained.Count <= options.Sampling.MaxNewTokens, $"row {row}: {trained.Count} response tokens");
            Assert.Equal(TextWithoutEos(tokenizer, trained), reward.Responses[row]);
            Assert.Equal(reward.Responses[row], rollout.Responses[row]);
        }
    }

    [Fact]
    public void A_stop_sequence_cuts_the_sampled_ids_before_the_token_it_begins_in()
    {
        var options = new PpoOptions { Sampling = new SamplingOptions { MaxNewTokens = 12, StopSequences = ["e"] }, MaxLength = 64 };
        var (rollout, sampled, reward, tokenizer) = Collect(options);
        using var _ = rollout;
        Assert.Contains(sampled, s => s.FinishReason == FinishReason.StopSequence);
        for (int row = 0; row < Prompts.Count; row++)
        {
            var trained = TrainedResponse(rollout, row);
            var ids = sampled[row].TokenIds;
            Assert.Equal(ids.Take(trained.Count), trained); // a prefix of what was sampled, nothing appended
            Assert.Equal(TextWithoutEos(tokenizer, trained), reward.Responses[row]);
            if (sampled[row].FinishReason != FinishReason.StopSequence) Assert.Equal(ids, trained);
            else if (trained.Count > 1 || !tokenizer.Decode(ids.Take(1)).Contains('e'))
            {
                // Every kept token lies before the stop sequence; the next sampled token is where it begins.
                Assert.DoesNotContain("e", tokenizer.Decode(trained));
                Assert.Contains("e", tokenizer.Decode(ids.Take(trained.Count + 1)));
            }
        }
    }
}
