using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Annotation;

/// <summary>A judgment as stored, with what the statistics do not need: the free-text note and when it was made.</summary>
public sealed record StoredJudgment(long Id, PairwiseJudgment Judgment, string? Note, DateTimeOffset CreatedAt);
