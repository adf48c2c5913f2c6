using RlhfSharp.Rewards;

namespace RlhfSharp.Tests.Rewards;

public class RewardSetTests
{
    sealed class Fixed(params double[] scores) : IRewardFunction
    {
        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => scores.Take(samples.Count).ToList();
    }

    sealed class Throwing : IRewardFunction
    {
        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => throw new InvalidOperationException("no network");
    }

    static readonly IReadOnlyList<RewardSample> Samples = RewardSample.Of(["Q: one?", "Q: two?"], ["1", "2\nand more"]);

    [Fact]
    public void The_reward_is_the_weighted_sum_and_each_function_keeps_its_own_scores()
    {
        var set = new RewardSet([new("model", new Fixed(1.5, -2)), new("format", new Fixed(1, 0), Weight: 0.5)]);

        var scores = set.ScoreEach(Samples);

        Assert.Equal([2.0, -2.0], scores.Total);
        Assert.Equal([1.5, -2.0], scores.ByFunction["model"]);
        Assert.Equal([1.0, 0.0], scores.ByFunction["format"]);
        Assert.Equal([2.0, -2.0], set.Score(Samples));
    }

    [Fact]
    public void A_nan_score_names_the_function_and_the_sample()
    {
        var set = new RewardSet([new("model", new Fixed(1, 1)), new("judge", new Fixed(0.5, double.NaN))]);

        var error = Assert.Throws<RlhfException>(() => set.Score(Samples));

        Assert.Equal("reward 'judge' gave NaN for sample 1 of the batch, prompt \"Q: two?\", completion \"2\\nand more\"", error.Message);
    }

    [Fact]
    public void An_exception_or_a_wrong_count_is_one_line_naming_the_function()
    {
        var throwing = Assert.Throws<RlhfException>(() => new RewardSet([new("plugin", new Throwing())]).Score(Samples));
        Assert.StartsWith("reward 'plugin' failed on a batch of 2 samples starting with prompt \"Q: one?\"", throwing.Message);
        Assert.EndsWith("InvalidOperationException: no network", throwing.Message);

        var shortList = Assert.Throws<RlhfException>(() => new RewardSet([new("short", new Fixed(1))]).Score(Samples));
        Assert.Equal("reward 'short' returned 1 scores for 2 samples", shortList.Message);
    }

    [Fact]
    public void Names_must_differ_and_weights_be_finite()
    {
        Assert.Contains("given twice", Assert.Throws<RlhfException>(() => new RewardSet([new("a", new Fixed()), new("a", new Fixed())])).Message);
        Assert.Contains("not a finite number", Assert.Throws<RlhfException>(() => new RewardSet([new("a", new Fixed(), double.NaN)])).Message);
    }
}
