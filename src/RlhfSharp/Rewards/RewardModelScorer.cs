using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using static TorchSharp.torch;

namespace RlhfSharp.Rewards;

/// <summary>
/// A reward model as a reward function: prompt + response re-encoded with the reward model's own tokenizer
/// (it need not share the policy's), right-padded batches, no gradients.
/// </summary>
public sealed class RewardModelScorer(nn.Module<DecoderInput, Tensor> model, ITextTokenizer tokenizer, int maxLength, int batchSize = 8) : IRewardFunction
{
    readonly ExampleEncoder _encoder = new(tokenizer);

    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples)
    {
        model.eval();
        using var noGrad = no_grad();
        var scores = new List<double>(samples.Count);
        for (int start = 0; start < samples.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var rows = Enumerable.Range(start, Math.Min(batchSize, samples.Count - start))
                .Select(i => (IReadOnlyList<int>)_encoder.EncodeSequence(samples[i].Prompt, samples[i].Completion, maxLength).InputIds).ToList();
            var (ids, mask) = Padding.Right(rows);
            scores.AddRange(model.call(new DecoderInput(ids, mask)).data<float>().ToArray().Select(v => (double)v));
        }
        return scores;
    }
}
