using System.Globalization;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Annotation;

public sealed partial class AnnotationStore
{
    /// <summary>
    /// Stores a judgment, mapped from screen sides to models, in one transaction. The same submission again is
    /// <see cref="SubmitOutcome.Repeated"/> with the stored id; the same id with other content is
    /// <see cref="SubmitOutcome.SubmissionIdReused"/>, and another annotator's id <see cref="SubmitOutcome.SubmissionIdOfAnotherJudge"/>;
    /// another submission for an item the annotator already judged is a <see cref="SubmitOutcome.Conflict"/>; an item not
    /// assigned to them is <see cref="SubmitOutcome.NotAssigned"/>.
    /// </summary>
    public SubmitResult Submit(Annotator annotator, JudgmentSubmission submission) => Write(connection =>
    {
        var me = ("$me", (object?)annotator.Id);
        var item = ("$item", (object?)submission.ItemId);
        var earlier = Rows(connection, """
            SELECT j.id, j.item_id, j.annotator_id, j.choice, j.criterion, j.note, i.a_on_left
            FROM judgments j JOIN items i ON i.id = j.item_id WHERE j.submission_id = $submission;
            """,
            r => (Id: r.GetInt64(0), Item: r.GetInt64(1), Annotator: r.GetInt64(2), Choice: r.GetString(3),
                Criterion: r.IsDBNull(4) ? null : r.GetString(4), Note: r.IsDBNull(5) ? null : r.GetString(5), AOnLeft: r.GetInt64(6) == 1),
            ("$submission", submission.SubmissionId));
        if (earlier is [var stored, ..])
        {
            // Only a retry of the very same judgment is a repeat: the same id with other content would be silently dropped.
            if (stored.Annotator != annotator.Id) return new SubmitResult(SubmitOutcome.SubmissionIdOfAnotherJudge);
            bool same = stored.Item == submission.ItemId && stored.Choice == ScreenSides.ToModel(submission.Choice, stored.AOnLeft).ToString()
                && stored.Criterion == submission.Criterion && stored.Note == submission.Note;
            return same ? new SubmitResult(SubmitOutcome.Repeated, stored.Id) : new SubmitResult(SubmitOutcome.SubmissionIdReused, stored.Id);
        }

        if (Long(connection, "SELECT 1 FROM assignments WHERE item_id = $item AND annotator_id = $me;", item, me) is null)
            return new SubmitResult(SubmitOutcome.NotAssigned);
        if (Long(connection, "SELECT id FROM judgments WHERE item_id = $item AND annotator_id = $me;", item, me) is not null)
            return new SubmitResult(SubmitOutcome.Conflict);

        bool aOnLeft = Long(connection, "SELECT a_on_left FROM items WHERE id = $item;", item) == 1;
        long id = Long(connection, $"""
            INSERT INTO judgments (id, item_id, annotator_id, choice, criterion, note, submission_id, created_at)
            VALUES ({NextJudgmentId}, $item, $me, $choice, $criterion, $note, $submission, $now) RETURNING id;
            """,
            item, me, ("$choice", ScreenSides.ToModel(submission.Choice, aOnLeft).ToString()), ("$criterion", submission.Criterion),
            ("$note", submission.Note), ("$submission", submission.SubmissionId), ("$now", Now()))!.Value;
        return new SubmitResult(SubmitOutcome.Stored, id);
    });

    // An undone judgment's id is never given again: a late undo (or anything else holding it) cannot hit a newer judgment.
    const string NextJudgmentId = "(SELECT COALESCE(MAX(m), 0) + 1 FROM (SELECT MAX(id) AS m FROM judgments UNION ALL SELECT MAX(id) FROM undone_judgments))";

    /// <summary>
    /// Takes back the annotator's LAST judgment, if it was saved at most <paramref name="window"/> ago: the row moves to
    /// undone_judgments (exports and reports never see it) and the item is open to them again, its lease restarted, so
    /// their next item is this one.
    /// </summary>
    public UndoResult Undo(Annotator annotator, long judgmentId, TimeSpan window) => Write(connection =>
    {
        var me = ("$me", (object?)annotator.Id);
        var found = Rows(connection, "SELECT item_id, created_at FROM judgments WHERE id = $id AND annotator_id = $me;",
            r => (Item: r.GetInt64(0), SavedAt: DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture)), ("$id", judgmentId), me);
        if (found is not [var judgment]) return new UndoResult(UndoOutcome.NotFound);
        var age = _clock.GetUtcNow() - judgment.SavedAt;
        if (Long(connection, "SELECT MAX(id) FROM judgments WHERE annotator_id = $me;", me) != judgmentId)
            return new UndoResult(UndoOutcome.NotLast, judgment.Item, age);
        if (age > window) return new UndoResult(UndoOutcome.TooLate, judgment.Item, age);
        var item = ("$item", (object?)judgment.Item);
        var id = ("$id", (object?)judgmentId);
        Execute(connection, """
            INSERT INTO undone_judgments (id, item_id, annotator_id, choice, criterion, note, submission_id, created_at, undone_at)
            SELECT id, item_id, annotator_id, choice, criterion, note, submission_id, created_at, $now FROM judgments WHERE id = $id;
            """, id, ("$now", Now()));
        Execute(connection, "DELETE FROM judgments WHERE id = $id;", id);
        Execute(connection, "UPDATE assignments SET assigned_at = $now WHERE item_id = $item AND annotator_id = $me;", item, me, ("$now", Now()));
        return new UndoResult(UndoOutcome.Undone, judgment.Item, age);
    });

    /// <summary>All judgments in MODEL terms, in the order they were made, for the statistics.</summary>
    public IReadOnlyList<PairwiseJudgment> ReadJudgments() => ReadStoredJudgments().Select(j => j.Judgment).ToList();

    /// <summary>All judgments with their notes and times, in the order they were made.</summary>
    public IReadOnlyList<StoredJudgment> ReadStoredJudgments() => Read(connection => Rows(connection, """
        SELECT j.id, i.external_id, n.name, j.choice, j.criterion, j.note, j.created_at
        FROM judgments j JOIN items i ON i.id = j.item_id JOIN annotators n ON n.id = j.annotator_id
        ORDER BY j.id;
        """,
        r => new StoredJudgment(
            r.GetInt64(0),
            new PairwiseJudgment(r.GetString(1), r.GetString(2), Enum.Parse<PairwiseChoice>(r.GetString(3)), r.IsDBNull(4) ? null : r.GetString(4)),
            r.IsDBNull(5) ? null : r.GetString(5),
            DateTimeOffset.Parse(r.GetString(6), CultureInfo.InvariantCulture))));
}
