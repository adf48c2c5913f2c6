namespace RlhfSharp.Annotation;

/// <summary>The body of POST /api/judgments, as sent: check <see cref="Problem"/> before <see cref="ToSubmission"/>.</summary>
internal sealed record JudgmentRequest(long? ItemId, string? Choice, string? Criterion, string? Note, string? SubmissionId)
{
    const int MaxNote = 4000;
    const int MaxSubmissionId = 100;

    /// <summary>What is wrong with the body, or null when it is a valid judgment.</summary>
    public string? Problem() =>
        ItemId is null ? "item_id is required"
        : Choice is not ("left" or "right" or "tie") ? "choice must be \"left\", \"right\" or \"tie\""
        : !string.IsNullOrEmpty(Criterion) && !Criteria.IsKnown(Criterion) ? $"criterion must be one of {string.Join(", ", Criteria.All)}"
        : Note is { Length: > MaxNote } ? $"note is longer than {MaxNote} characters"
        : string.IsNullOrEmpty(SubmissionId) || SubmissionId.Length > MaxSubmissionId || !SubmissionId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? $"submission_id must be 1 to {MaxSubmissionId} letters, digits, '-' or '_'"
        : null;

    public JudgmentSubmission ToSubmission() => new(
        ItemId!.Value,
        Choice switch { "left" => ScreenChoice.Left, "right" => ScreenChoice.Right, _ => ScreenChoice.Tie },
        string.IsNullOrEmpty(Criterion) ? null : Criterion,
        string.IsNullOrWhiteSpace(Note) ? null : Note,
        SubmissionId!);
}
