using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Tests.Training.Ppo;

public class ScoreScalerTests
{
    static void Equal(double[] expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6);
    }

    [Fact]
    public void None_only_clips_scores_to_the_reward_clip_range()
    {
        var scaler = new ScoreScaler(new PpoOptions { ScaleReward = "none", ClipRangeReward = 3 });
        Equal([-3, -1, 0.5, 3], scaler.Scale([-5, -1, 0.5, 4]));
        Assert.Equal(0, scaler.Moments.Count); // only "running" keeps statistics
    }

    [Fact]
    public void Ref_standardises_clipped_scores_with_the_given_mean_and_std()
    {
        var scaler = new ScoreScaler(new PpoOptions { ScaleReward = "ref", RefMean = 1, RefStd = 2, ClipRangeReward = 3 });
        // Clipped to [-3, 2, 3], then (s - 1) / 2.
        Equal([-2, 0.5, 1], scaler.Scale([-5, 2, 4]));
        Assert.Equal(0, scaler.Moments.Count);
    }

    [Fact]
    public void Running_divides_by_the_sample_std_of_every_score_seen_so_far()
    {
        var scaler = new ScoreScaler(new PpoOptions { ScaleReward = "running" });
        // A single score: the std is 1 until two are seen.
        Equal([7], scaler.Scale([7]));
        // [7, 1, 2, 3]: mean 13 / 4 = 3.25; squared deviations 14.0625 + 5.0625 + 1.5625 + 0.0625 = 20.75;
        // sample std sqrt(20.75 / 3) = 2.6299556, so 1 / 2.6299556 = 0.3802346, 2 -> 0.7604691, 3 -> 1.1407037.
        Equal([0.3802346, 0.7604691, 1.1407037], scaler.Scale([1, 2, 3]));
        Assert.Equal(4, scaler.Moments.Count);
        Assert.Equal(3.25, scaler.Moments.Mean, 12);
    }

    [Fact]
    public void Running_statistics_are_those_of_the_clipped_scores()
    {
        var scaler = new ScoreScaler(new PpoOptions { ScaleReward = "running", ClipRangeReward = 2 });
        // Clipped to [-2, 1, 2]: mean 1 / 3; squared deviations 49 / 9 + 4 / 9 + 25 / 9 = 78 / 9; sample std
        // sqrt(78 / 18) = 2.0816660. (Unclipped [-5, 1, 5] would give std 5.0332230 and [-0.9934, 0.1987, 0.9934].)
        Equal([-0.9607689, 0.4803845, 0.9607689], scaler.Scale([-5, 1, 5]));
        Assert.Equal(1.0 / 3, scaler.Moments.Mean, 12);
    }
}
