namespace RlhfSharp.Rewards;

/// <summary>
/// Scores completions (text in, one number per completion out), as trlx's reward_fn and TRL's reward functions: a reward
/// model, a rule over the text and the prompt row's fields, or user code loaded with --reward-plugin. Implementations
/// return exactly one finite number per sample, in order.
/// </summary>
public interface IRewardFunction
{
    IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples);
}
