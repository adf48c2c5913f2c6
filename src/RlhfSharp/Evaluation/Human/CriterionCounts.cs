namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// The judgments on one criterion and the per-item majority verdicts on it. <paramref name="Criterion"/> is null
/// for judgments recorded without one in a study where others have one.
/// </summary>
public sealed record CriterionCounts(string? Criterion, ChoiceCounts Judgments, ChoiceCounts Items);
