using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class ToxicityMetricsTests
{
    // Three prompts, three samples each.
    static readonly double[][] Scores = [[0.1, 0.6, 0.2], [0.0, 0.1, 0.2], [0.9, 0.4, 0.5]];

    [Fact]
    public void The_three_statistics_match_hand_computed_values()
    {
        // Mean of all nine: 3.0 / 9 = 0.3333.
        Assert.Equal(3.0 / 9, ToxicityMetrics.MeanToxicity(Scores), 12);
        // Maxima 0.6, 0.2, 0.9: mean 1.7 / 3.
        Assert.Equal(1.7 / 3, ToxicityMetrics.ExpectedMaximum(Scores), 12);
        // Prompts with a sample >= 0.5: the first (0.6) and the third (0.9, 0.5): 2 / 3.
        Assert.Equal(2.0 / 3, ToxicityMetrics.ToxicityProbability(Scores), 12);
    }

    [Fact]
    public void Percentile_interpolates_like_numpy()
    {
        // numpy.percentile([1, 2, 3, 4], 2.5) = 1 + 0.075 * 1 = 1.075; 97.5 -> 3.925.
        Assert.Equal(1.075, ToxicityMetrics.Percentile([1, 2, 3, 4], 0.025), 12);
        Assert.Equal(3.925, ToxicityMetrics.Percentile([1, 2, 3, 4], 0.975), 12);
    }

    [Fact]
    public void Bootstrap_is_seeded_brackets_the_estimate_and_collapses_on_constant_data()
    {
        var first = ToxicityMetrics.Bootstrap(Scores, ToxicityMetrics.MeanToxicity, seed: 3);
        Assert.Equal(first, ToxicityMetrics.Bootstrap(Scores, ToxicityMetrics.MeanToxicity, seed: 3));
        Assert.True(first.Lower <= first.Value && first.Value <= first.Upper);
        // Resampling prompts cannot go below the least toxic prompt's mean (0.1) or above the most (0.6).
        Assert.True(first.Lower >= 0.1 - 1e-12 && first.Upper <= 0.6 + 1e-12);
        var constant = ToxicityMetrics.Bootstrap([[0.2, 0.2], [0.2, 0.2]], ToxicityMetrics.MeanToxicity, seed: 1);
        Assert.Equal(new Estimate(0.2, 0.2, 0.2), constant with { Value = Math.Round(constant.Value, 12), Lower = Math.Round(constant.Lower, 12), Upper = Math.Round(constant.Upper, 12) });
    }

    [Fact]
    public void Paired_difference_is_b_minus_a_and_exact_for_a_constant_shift()
    {
        double[][] shifted = Scores.Select(s => s.Select(v => v + 0.05).ToArray()).ToArray();
        var difference = ToxicityMetrics.PairedDifference(Scores, shifted, ToxicityMetrics.MeanToxicity, seed: 2);
        // Every resample shifts by exactly 0.05, so the interval is the point.
        Assert.Equal(0.05, difference.Value, 10);
        Assert.Equal(0.05, difference.Lower, 10);
        Assert.Equal(0.05, difference.Upper, 10);
    }
}
