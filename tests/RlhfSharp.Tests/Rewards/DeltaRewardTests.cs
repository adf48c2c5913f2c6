using RlhfSharp.Rewards;

namespace RlhfSharp.Tests.Rewards;

public class DeltaRewardTests
{
    /// <summary>Scores a response by its length, and counts how often it is asked.</summary>
    sealed class LengthReward : IRewardFunction
    {
        public int Calls;
        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples)
        {
            var responses = samples.Select(s => s.Completion).ToList();
            Calls++;
            return responses.Select(r => (double)r.Length).ToList();
        }
    }

    [Fact]
    public void Scores_are_relative_to_the_preferred_response_which_is_scored_once()
    {
        var inner = new LengthReward();
        var delta = new DeltaReward(inner, new Dictionary<string, string> { ["p1"] = "abc", ["p2"] = "a" });
        Assert.Equal([2.0, -1.0, 0.0], delta.Score(RewardSample.Of(["p1", "p1", "p2"], ["abcde", "ab", "x"])));
        Assert.Equal(2, inner.Calls); // the baselines, then the responses
        Assert.Equal([1.0], delta.Score(RewardSample.Of(["p2"], ["xy"])));
        Assert.Equal(3, inner.Calls); // baselines are kept
        Assert.ThrowsAny<RlhfException>(() => delta.Score(RewardSample.Of(["p3"], ["x"])));
    }
}
