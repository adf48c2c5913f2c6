using System.Globalization;
using Microsoft.Data.Sqlite;

namespace RlhfSharp.Annotation;

public sealed partial class AnnotationStore
{
    // An item's load is its assignments: judged ones and open ones (a judgment requires an assignment).
    const string Load = "(SELECT COUNT(*) FROM assignments l WHERE l.item_id = i.id)";
    const string Unseen = """
        NOT EXISTS (SELECT 1 FROM assignments s WHERE s.item_id = i.id AND s.annotator_id = $me)
        AND NOT EXISTS (SELECT 1 FROM skips k WHERE k.item_id = i.id AND k.annotator_id = $me)
        """;
    const string NotJudged = "NOT EXISTS (SELECT 1 FROM judgments j WHERE j.item_id = assignments.item_id AND j.annotator_id = assignments.annotator_id)";
    const string OpenForMe = """
        SELECT a.item_id FROM assignments a
        WHERE a.annotator_id = $me
          AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.item_id = a.item_id AND j.annotator_id = $me)
        """;

    /// <summary>
    /// The item this annotator should judge next: the one already assigned to them and not judged, else the least
    /// loaded item they have not seen or skipped whose load is under <paramref name="perItem"/>, assigned to them in the
    /// same transaction (so concurrent requests never give an item more than <paramref name="perItem"/> annotators).
    /// First, open assignments older than <paramref name="lease"/> (anyone's) go back to the pool: a judge who walked
    /// away must not hold an item forever. Null when nothing is left for them.
    /// </summary>
    public ItemView? NextItem(Annotator annotator, int perItem, TimeSpan? lease = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perItem, 1);
        return Write(connection =>
        {
            if (lease is { } expiry)
                Execute(connection, $"DELETE FROM assignments WHERE assigned_at <= $cutoff AND {NotJudged};",
                    ("$cutoff", Stamp(_clock.GetUtcNow() - expiry)));
            var me = ("$me", (object?)annotator.Id);
            long? itemId = Long(connection, OpenForMe + " ORDER BY a.rowid LIMIT 1;", me);
            if (itemId is null)
            {
                itemId = Long(connection, $"SELECT i.id FROM items i WHERE {Unseen} AND {Load} < $k ORDER BY {Load}, i.id LIMIT 1;",
                    me, ("$k", perItem));
                if (itemId is null) return null;
                Execute(connection, "INSERT INTO assignments (item_id, annotator_id, assigned_at) VALUES ($item, $me, $now);",
                    ("$item", itemId), me, ("$now", Now()));
            }
            return View(connection, itemId.Value);
        });
    }

    /// <summary>Judged items, of those judged, assigned and still open to this annotator.</summary>
    public WorkProgress ProgressOf(Annotator annotator, int perItem) => Read(connection =>
    {
        var me = ("$me", (object?)annotator.Id);
        int judged = (int)Long(connection, "SELECT COUNT(*) FROM judgments WHERE annotator_id = $me;", me)!.Value;
        int open = (int)Long(connection, $"SELECT COUNT(*) FROM ({OpenForMe});", me)!.Value;
        int available = (int)Long(connection, $"SELECT COUNT(*) FROM items i WHERE {Unseen} AND {Load} < $k;", me, ("$k", perItem))!.Value;
        return new WorkProgress(judged, judged + open + available);
    });

    static ItemView View(SqliteConnection connection, long itemId) => Rows(connection,
        "SELECT prompt, response_a, response_b, a_on_left FROM items WHERE id = $item;",
        r => r.GetBoolean(3)
            ? new ItemView(itemId, r.GetString(0), r.GetString(1), r.GetString(2))
            : new ItemView(itemId, r.GetString(0), r.GetString(2), r.GetString(1)),
        ("$item", itemId)).Single();

    /// <summary>
    /// The annotator passes their open <paramref name="itemId"/> on: the assignment is released (someone else gets the
    /// item at once) and the skip recorded; they are not offered it again.
    /// </summary>
    public SkipOutcome Skip(Annotator annotator, long itemId) => Write(connection =>
    {
        var me = ("$me", (object?)annotator.Id);
        var item = ("$item", (object?)itemId);
        if (Long(connection, "SELECT 1 FROM judgments WHERE item_id = $item AND annotator_id = $me;", item, me) is not null)
            return SkipOutcome.AlreadyJudged;
        if (Execute(connection, "DELETE FROM assignments WHERE item_id = $item AND annotator_id = $me;", item, me) == 0)
            return SkipOutcome.NotAssigned;
        Execute(connection, "INSERT INTO skips (item_id, annotator_id, skipped_at) VALUES ($item, $me, $now);", item, me, ("$now", Now()));
        return SkipOutcome.Skipped;
    });

    /// <summary>Releases every open (unjudged) item of the named annotator; null when there is no such annotator.</summary>
    public int? ReleaseOpenItems(string annotatorName) => Write(connection =>
    {
        long? id = Long(connection, "SELECT id FROM annotators WHERE name = $name;", ("$name", annotatorName));
        if (id is null) return (int?)null;
        return Execute(connection, $"DELETE FROM assignments WHERE annotator_id = $me AND {NotJudged};", ("$me", id));
    });

    /// <summary>The skips, oldest first.</summary>
    public IReadOnlyList<StoredSkip> ReadSkips() => Read(connection => Rows(connection, """
        SELECT i.external_id, n.name, k.skipped_at
        FROM skips k JOIN items i ON i.id = k.item_id JOIN annotators n ON n.id = k.annotator_id
        ORDER BY k.id;
        """,
        r => new StoredSkip(r.GetString(0), r.GetString(1), DateTimeOffset.Parse(r.GetString(2), CultureInfo.InvariantCulture))));
}
