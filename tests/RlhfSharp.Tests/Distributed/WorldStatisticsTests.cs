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

    /// <summary>Rank <paramref name="rank"/> of two, whose partner contributes <paramref name="partnerSums"/> to an all-reduce
    /// and <paramref name="partnerValues"/> to an all-gather.</summary>
    sealed class TwoRanks(int rank, double[] partnerSums, double[] partnerValues) : IDistributed
    {
        public int Rank => rank;
        public int Size => 2;

        public void AllReduce(Span<double> values, ReduceOp op = ReduceOp.Sum)
        {
            for (int i = 0; i < values.Length; i++) values[i] += partnerSums[i];
        }

        public void AllGather(TorchSharp.torch.Tensor tensor)
        {
            long n = tensor.shape[0] / 2;
            using var partner = TorchSharp.torch.tensor(partnerValues);
            using var slot = tensor.narrow(0, (1 - rank) * n, n);
            slot.copy_(partner);
        }

        public void AllReduce(TorchSharp.torch.Tensor tensor, ReduceOp op = ReduceOp.Sum) => throw new NotSupportedException();
        public void Broadcast(TorchSharp.torch.Tensor tensor, int root = 0) => throw new NotSupportedException();
        public void Barrier() { }
        public void Finish() { }
        public void Dispose() { }
    }

    [Fact]
    public void Two_ranks_average_their_metrics_sum_the_summed_ones_and_gather_in_rank_order()
    {
        // Names are reduced in ordinal order: loss, tokens_per_s. The partner has loss 3.5 and 60 tokens/s.
        var means = WorldStatistics.Mean(new TwoRanks(0, [3.5, 60], []), new Dictionary<string, double> { ["loss"] = 2.5, ["tokens_per_s"] = 40 }, "tokens_per_s");
        Assert.Equal(new Dictionary<string, double> { ["loss"] = 3.0, ["tokens_per_s"] = 100 }, means);
        // Rank 1's own values come second.
        Assert.Equal([7, 8, 1, 2], WorldStatistics.Gather(new TwoRanks(1, [], [7, 8]), [1, 2]));
    }
}
