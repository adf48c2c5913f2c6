namespace RlhfSharp.Annotation;

/// <summary>
/// A judgment as the page sends it. <see cref="SubmissionId"/> is made once per item view, so a retry or a double
/// click sends the same id and stores one judgment.
/// </summary>
public sealed record JudgmentSubmission(long ItemId, ScreenChoice Choice, string? Criterion, string? Note, string SubmissionId);
