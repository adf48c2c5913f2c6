namespace RlhfSharp.Annotation;

/// <summary>What became of a submission; <see cref="JudgmentId"/> is set when it is (or was already) stored.</summary>
public sealed record SubmitResult(SubmitOutcome Outcome, long? JudgmentId = null);
