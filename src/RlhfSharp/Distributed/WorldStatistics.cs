using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// Statistics of the whole world rather than of one rank: the reductions the trainers need for their metrics, score
/// scaling and advantage whitening. Every rank must make the same call, and each gets the same result back. The
/// moments are sums reduced in float64; a single process can keep its own computation where seeded results depend on it.
/// </summary>
internal static class WorldStatistics
{
    /// <summary>
    /// The mean over ranks of each metric (every rank must pass the same names); names in <paramref name="summed"/>
    /// are added instead (throughputs).
    /// </summary>
    public static Dictionary<string, double> Mean(IDistributed world, IReadOnlyDictionary<string, double> metrics, params string[] summed)
    {
        var result = new Dictionary<string, double>(metrics);
        if (world.Size == 1) return result;
        string[] names = metrics.Keys.Order(StringComparer.Ordinal).ToArray();
        double[] values = names.Select(n => metrics[n]).ToArray();
        world.AllReduce(values);
        for (int i = 0; i < names.Length; i++) result[names[i]] = summed.Contains(names[i]) ? values[i] : values[i] / world.Size;
        return result;
    }

    /// <summary>Every rank's values, rank by rank (each rank passes as many).</summary>
    public static IReadOnlyList<double> Gather(IDistributed world, IReadOnlyList<double> values)
    {
        if (world.Size == 1) return values;
        using var all = zeros(values.Count * world.Size, ScalarType.Float64);
        using (var own = all.narrow(0, values.Count * world.Rank, values.Count))
        using (var local = tensor(values.ToArray())) own.copy_(local);
        world.AllGather(all);
        return all.data<double>().ToArray();
    }

    /// <summary>The count, mean and population variance of every rank's values: one all-reduce of count, sum and sum of squares.</summary>
    public static (long Count, double Mean, double Variance) Moments(IDistributed world, IReadOnlyList<double> values)
    {
        Span<double> sums = [values.Count, values.Sum(), values.Sum(v => v * v)];
        world.AllReduce(sums);
        double mean = sums[1] / sums[0];
        return ((long)sums[0], mean, Math.Max(0, sums[2] / sums[0] - mean * mean));
    }

    /// <summary>
    /// The mean and unbiased variance of <paramref name="x"/> over every rank's elements where <paramref name="mask"/> is 1:
    /// two all-reduces, of the sums and then of the squared deviations from the world's mean.
    /// </summary>
    public static (double Mean, double Variance) MaskedMoments(IDistributed world, Tensor x, Tensor mask)
    {
        using var scope = NewDisposeScope();
        Span<double> sums = [(x * mask).sum().ToDouble(), mask.sum().ToDouble()];
        world.AllReduce(sums);
        double mean = sums[0] / sums[1];
        Span<double> squares = [((x - mean).square() * mask).sum().ToDouble()];
        world.AllReduce(squares);
        return (mean, squares[0] / Math.Max(1, sums[1] - 1));
    }
}
