namespace RlhfSharp.Annotation;

public sealed partial class AnnotationStore
{
    /// <summary>Counts per annotator and per item, and wins/ties/losses per model pairing, read in one snapshot.</summary>
    public AnnotationProgress ReadProgress() => Read(connection =>
    {
        // One read transaction: the three queries see the same state even while judgments arrive.
        Execute(connection, "BEGIN;");
        try
        {
            var annotators = Rows(connection, """
                SELECT n.name, n.is_admin,
                       (SELECT COUNT(*) FROM judgments j WHERE j.annotator_id = n.id),
                       (SELECT COUNT(*) FROM assignments a WHERE a.annotator_id = n.id),
                       (SELECT COUNT(*) FROM skips k WHERE k.annotator_id = n.id)
                FROM annotators n ORDER BY n.name;
                """,
                r => new AnnotatorProgress(r.GetString(0), r.GetBoolean(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(3) - r.GetInt32(2), r.GetInt32(4)));
            var items = Rows(connection, """
                SELECT i.external_id,
                       (SELECT COUNT(*) FROM judgments j WHERE j.item_id = i.id),
                       (SELECT COUNT(*) FROM assignments a WHERE a.item_id = i.id)
                FROM items i ORDER BY i.id;
                """,
                r => new ItemProgress(r.GetString(0), r.GetInt32(1), r.GetInt32(2) - r.GetInt32(1)));
            var results = Rows(connection, """
                SELECT i.model_a, i.model_b, SUM(j.choice = 'A'), SUM(j.choice = 'Tie'), SUM(j.choice = 'B')
                FROM judgments j JOIN items i ON i.id = j.item_id
                GROUP BY i.model_a, i.model_b ORDER BY i.model_a, i.model_b;
                """,
                r => new ModelPairResult(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4)));
            return new AnnotationProgress(annotators, items, results);
        }
        finally
        {
            Execute(connection, "COMMIT;");
        }
    });
}
