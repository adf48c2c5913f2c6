using RlhfSharp.Distributed;
using RlhfSharp.Tests.Training.Ppo;

namespace RlhfSharp.Tests.Distributed;

/// <summary>The world's statistics in one process: the local values' own, computed as the ranks' sums would be.</summary>
public class WorldStatisticsTests
{
    static readonly IDistributed One = SingleProcess.Instance;

    [Fact]
    public void Moments_are_the_count_mean_and_population_variance()
    {
        // 1, 2, 3, 6: mean 3; squared deviations 4, 1, 0, 9 -> population variance 14 / 4 = 3.5.
        var (count, mean, variance) = WorldStatistics.Moments(One, [1, 2, 3, 6]);
        Assert.Equal(4, count);
        Assert.Equal(3, mean, 12);
        Assert.Equal(3.5, variance, 12);
    }

    [Fact]
    public void Masked_moments_count_only_real_tokens_and_are_unbiased()
    {
        // Real tokens 1, 2 | 3 (the 9 and the zeros are padding): mean 2, unbiased variance (1 + 0 + 1) / (3 - 1) = 1.
        using var x = Rows.Of([1, 2, 9], [3, 0, 0]);
        using var mask = Rows.Of([1, 1, 0], [1, 0, 0]);
        var (mean, variance) = WorldStatistics.MaskedMoments(One, x, mask);
        Assert.Equal(2, mean, 6);
        Assert.Equal(1, variance, 6);
    }

    [Fact]
    public void One_process_gathers_and_averages_its_own_values()
    {
        Assert.Equal([0.5, -1], WorldStatistics.Gather(One, [0.5, -1]));
        var means = WorldStatistics.Mean(One, new Dictionary<string, double> { ["loss"] = 2.5, ["tokens_per_s"] = 40 }, "tokens_per_s");
        Assert.Equal(new Dictionary<string, double> { ["loss"] = 2.5, ["tokens_per_s"] = 40 }, means);
    }
}
