namespace RlhfSharp.Rewards;

/// <summary>One reward function of a <see cref="RewardSet"/>: its name in metrics and errors, and its weight in the sum.</summary>
public sealed record WeightedReward(string Name, IRewardFunction Function, double Weight = 1);

/// <summary>The scores of one batch: the weighted sum per sample, and each function's own (unweighted) scores by name.</summary>
public sealed record RewardBreakdown(IReadOnlyList<double> Total, IReadOnlyDictionary<string, IReadOnlyList<double>> ByFunction);
