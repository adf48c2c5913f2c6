namespace RlhfSharp.Evaluation.Human;

/// <summary>A two-sided confidence interval for a proportion, both ends in [0, 1].</summary>
public sealed record ConfidenceInterval(double Lower, double Upper);
