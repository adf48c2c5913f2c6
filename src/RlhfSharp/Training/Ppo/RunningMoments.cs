using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// The running mean and standard deviation of every score seen, merged batch by batch (Chan et al.'s parallel
/// variance, as trlx's RunningMoments): for a batch of n scores with mean m_b and population variance v_b,
/// delta = m_b - Mean, N = Count + n,
/// Mean &lt;- Mean + delta * n / N,
/// Variance &lt;- (Variance * Count + v_b * n + delta^2 * Count * n / N) / N.
/// </summary>
internal sealed class RunningMoments
{
    public double Mean { get; private set; }
    /// <summary>The population variance of the scores seen.</summary>
    public double Variance { get; private set; }
    public long Count { get; private set; }

    /// <summary>The sample standard deviation sqrt(Variance * Count / (Count - 1)); 1 until two scores are seen, so dividing by it is harmless.</summary>
    public double Std => SampleStd(Variance, Count);

    public RunningMomentsState State => new(Mean, Variance, Count);

    public void Restore(RunningMomentsState state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(state.Variance);
        ArgumentOutOfRangeException.ThrowIfNegative(state.Count);
        (Mean, Variance, Count) = (state.Mean, state.Variance, state.Count);
    }

    /// <summary>Merges a batch of scores [batch] and returns that batch's mean and sample standard deviation.</summary>
    public (double BatchMean, double BatchStd) Update(Tensor scores)
    {
        using var scope = NewDisposeScope();
        var x = scores.detach().to_type(ScalarType.Float64).flatten();
        long n = x.shape[0];
        if (n == 0) throw new ArgumentException("no scores to merge", nameof(scores));
        double batchMean = x.mean().ToDouble();
        double batchVariance = (x - batchMean).square().mean().ToDouble();

        Merge(n, batchMean, batchVariance);
        return (batchMean, SampleStd(batchVariance, n));
    }

    /// <summary>Merges a batch given by its count, mean and population variance (e.g. all ranks' scores, all-reduced).</summary>
    public void Merge(long n, double batchMean, double batchVariance)
    {
        long total = Count + n;
        double delta = batchMean - Mean;
        double sumOfSquares = Variance * Count + batchVariance * n + delta * delta * Count * n / total;
        Mean += delta * n / total;
        Variance = sumOfSquares / total;
        Count = total;
    }

    static double SampleStd(double variance, long count) => count > 1 ? Math.Sqrt(variance * count / (count - 1)) : 1;
}
