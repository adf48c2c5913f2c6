using static TorchSharp.torch;

namespace RlhfSharp.Generation;

/// <summary>Pure transforms of next-token logits [batch, vocab]; removed tokens get -inf.</summary>
internal static class LogitsProcessing
{
    public static Tensor Temperature(Tensor logits, double temperature) => temperature == 1.0 ? logits.alias() : logits / temperature;

    /// <summary>Keeps the k largest logits of each row (ties at the k-th value are kept).</summary>
    public static Tensor TopK(Tensor logits, int k)
    {
        if (k <= 0 || k >= logits.shape[^1]) return logits.alias();
        using var scope = NewDisposeScope();
        var kth = logits.topk(k, dim: -1).values.narrow(-1, k - 1, 1);
        return logits.masked_fill(logits.lt(kth), float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Nucleus filtering: keeps, in order of probability, every token whose preceding probability mass is
    /// below p, so the kept set is the smallest whose mass reaches p (the most likely token always stays).
    /// </summary>
    public static Tensor TopP(Tensor logits, double p)
    {
        if (p >= 1.0) return logits.alias();
        using var scope = NewDisposeScope();
        var (sorted, order) = logits.sort(dim: -1, descending: true);
        var probabilities = sorted.softmax(-1);
        var massBefore = probabilities.cumsum(-1) - probabilities;
        var removeSorted = massBefore.ge(p);
        var remove = zeros_like(removeSorted).scatter(-1, order, removeSorted);
        return logits.masked_fill(remove, float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>Temperature, then top-k, then top-p (the order transformers applies them).</summary>
    public static Tensor ForSampling(Tensor logits, SamplingOptions options)
    {
        using var scope = NewDisposeScope();
        var processed = TopP(TopK(Temperature(logits, options.Temperature), options.TopK), options.TopP);
        return processed.MoveToOuterDisposeScope();
    }
}
