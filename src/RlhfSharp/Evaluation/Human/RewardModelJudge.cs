using RlhfSharp.Rewards;

namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// A reward model as a judge: the response with the higher score wins; scores within
/// <paramref name="tieMargin"/> of each other are a tie.
/// </summary>
public sealed class RewardModelJudge(IRewardFunction reward, string name, double tieMargin = 0) : IPairwiseJudge
{
    public string Name => name;

    public IReadOnlyList<PairwiseChoice> Judge(IReadOnlyList<Comparison> comparisons)
    {
        var prompts = comparisons.Select(c => c.Prompt).ToList();
        var a = reward.Score(RewardSample.Of(prompts, comparisons.Select(c => c.ResponseA).ToList()));
        var b = reward.Score(RewardSample.Of(prompts, comparisons.Select(c => c.ResponseB).ToList()));
        return a.Select((scoreA, i) => scoreA > b[i] + tieMargin ? PairwiseChoice.A : b[i] > scoreA + tieMargin ? PairwiseChoice.B : PairwiseChoice.Tie).ToList();
    }
}
