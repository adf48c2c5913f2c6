namespace RlhfSharp.Rewards;

/// <summary>Scores whole responses to prompts (text in, one number per pair out), as trlx's reward_fn.</summary>
public interface IRewardFunction
{
    IReadOnlyList<double> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses);
}
