namespace RlhfSharp.Annotation;

/// <summary>The body of POST /api/judgments, as sent; <see cref="Validate"/> turns it into a submission or says what is wrong.</summary>
internal sealed record JudgmentRequest(long? ItemId, string? Choice, string? Criterion, string? Note, string? SubmissionId)
{
    const int MaxNote = 4000;
    const int MaxSubmissionId = 100;

    public JudgmentSubmission Validate(out string? error)
    {
        error = ItemId is null ? "item_id is required"
            : Choice is not ("left" or "right" or "tie") ? "choice must be \"left\", \"right\" or \"tie\""
            : !string.IsNullOrEmpty(Criterion) && !Criteria.IsKnown(Criterion) ? $"criterion must be one of {string.Join(", ", Criteria.All)}"
            : Note is { Length: > MaxNote } ? $"note is longer than {MaxNote} characters"
            : string.IsNullOrEmpty(SubmissionId) || SubmissionId.Length > MaxSubmissionId || !SubmissionId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
                ? $"submission_id must be 1 to {MaxSubmissionId} letters, digits, '-' or '_'"
            : null;
        var choice = Choice switch { "left" => ScreenChoice.Left, "right" => ScreenChoice.Right, _ => ScreenChoice.Tie };
        return new JudgmentSubmission(ItemId ?? 0, choice, string.IsNullOrEmpty(Criterion) ? null : Criterion,
            string.IsNullOrWhiteSpace(Note) ? null : Note, SubmissionId ?? "");
    }
}
