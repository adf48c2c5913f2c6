using Microsoft.Data.Sqlite;

namespace RlhfSharp.Annotation;

public sealed partial class AnnotationStore
{
    // An item's load is its assignments: judged ones and open ones (a judgment requires an assignment).
    const string Load = "(SELECT COUNT(*) FROM assignments l WHERE l.item_id = i.id)";
    const string Unseen = "NOT EXISTS (SELECT 1 FROM assignments s WHERE s.item_id = i.id AND s.annotator_id = $me)";
    const string OpenForMe = """
        SELECT a.item_id FROM assignments a
        WHERE a.annotator_id = $me
          AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.item_id = a.item_id AND j.annotator_id = $me)
        """;

    /// <summary>
    /// The item this annotator should judge next: the one already assigned to them and not judged, else the least
    /// loaded item they have not seen whose load is under <paramref name="perItem"/>, assigned to them in the same
    /// transaction (so concurrent requests never give an item more than <paramref name="perItem"/> annotators).
    /// Null when nothing is left for them.
    /// </summary>
    public ItemView? NextItem(Annotator annotator, int perItem)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perItem, 1);
        return Write(connection =>
        {
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
}
