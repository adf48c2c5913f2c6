using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Ppo;

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
