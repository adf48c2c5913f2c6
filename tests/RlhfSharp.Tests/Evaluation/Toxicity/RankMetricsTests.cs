using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class RankMetricsTests
{
    [Fact]
    public void Tied_values_share_the_mean_of_their_ranks() =>
        Assert.Equal([1, 2.5, 2.5, 4], RankMetrics.AverageRanks([10, 20, 20, 30]));

    [Fact]
    public void RocAuc_is_the_share_of_positive_negative_pairs_ordered_right()
    {
        // Positive 0.35 beats 0.1 but not 0.4; positive 0.8 beats both: 3 of 4 pairs.
        Assert.Equal(0.75, RankMetrics.RocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 12);
        Assert.Equal(1.0, RankMetrics.RocAuc([0.1, 0.2, 0.9], [false, false, true]), 12);
        Assert.Equal(0.0, RankMetrics.RocAuc([0.9, 0.2, 0.1], [false, true, true]), 12);
    }

    [Fact]
    public void RocAuc_counts_a_tie_as_half_a_pair()
    {
        // Positive 0.5 ties negative 0.5 (1/2) and beats 0.2 (1); positive 0.9 beats both (2): 3.5 of 4.
        Assert.Equal(0.875, RankMetrics.RocAuc([0.5, 0.5, 0.2, 0.9], [true, false, false, true]), 12);
        Assert.Equal(0.5, RankMetrics.RocAuc([1, 1, 1, 1], [true, false, true, false]), 12);
    }

    [Fact]
    public void RocAuc_needs_both_labels() =>
        Assert.Throws<ArgumentException>(() => RankMetrics.RocAuc([0.1, 0.2], [true, true]));

    [Fact]
    public void Spearman_uses_average_ranks()
    {
        // y ranks 1, 2, 3.5, 5, 3.5 against 1..5: sum dx*dy = 8, sum dx^2 = 10, sum dy^2 = 9.5.
        Assert.Equal(8 / Math.Sqrt(95), RankMetrics.Spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 12);
    }

    [Fact]
    public void Spearman_is_one_for_any_increasing_relation()
    {
        Assert.Equal(1.0, RankMetrics.Spearman([1, 2, 3, 4], [1, 8, 27, 1000]), 12);
        Assert.Equal(-1.0, RankMetrics.Spearman([1, 2, 3, 4], [0.9, 0.5, 0.2, 0.1]), 12);
    }
}
