using System.Security.Cryptography;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Annotation;

public sealed partial class AnnotationStore
{
    /// <summary>
    /// Adds the comparisons not yet stored, in one transaction. Each new item's left/right order is drawn once, here,
    /// from a <see cref="Random"/> seeded with <paramref name="seed"/> (fresh when null; recorded in the imports table).
    /// A draw is made for every row, stored or not, so the same file and seed give the same order.
    /// </summary>
    /// <exception cref="RlhfException">An id already stored with other content.</exception>
    public ImportResult Import(IEnumerable<Comparison> comparisons, int? seed = null)
    {
        int usedSeed = seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        var random = new Random(usedSeed);
        return Write(connection =>
        {
            long importId = Long(connection, "INSERT INTO imports (seed, imported_at) VALUES ($seed, $now) RETURNING id;",
                ("$seed", usedSeed), ("$now", Now()))!.Value;
            int added = 0, present = 0;
            foreach (var comparison in comparisons)
            {
                bool aOnLeft = random.Next(2) == 0;
                var stored = Rows(connection, "SELECT prompt, response_a, response_b, model_a, model_b FROM items WHERE external_id = $id;",
                    r => new Comparison(comparison.Id, r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)),
                    ("$id", comparison.Id));
                if (stored.Count > 0)
                {
                    if (stored[0] != comparison) throw new RlhfException($"comparison \"{comparison.Id}\" is already stored with other content");
                    present++;
                    continue;
                }
                Execute(connection, """
                    INSERT INTO items (external_id, prompt, response_a, response_b, model_a, model_b, a_on_left, import_id)
                    VALUES ($id, $prompt, $a, $b, $modelA, $modelB, $aOnLeft, $import);
                    """,
                    ("$id", comparison.Id), ("$prompt", comparison.Prompt), ("$a", comparison.ResponseA), ("$b", comparison.ResponseB),
                    ("$modelA", comparison.ModelA), ("$modelB", comparison.ModelB), ("$aOnLeft", aOnLeft), ("$import", importId));
                added++;
            }
            return new ImportResult(added, present, usedSeed);
        });
    }

    /// <summary>The stored comparisons, in import order.</summary>
    public IReadOnlyList<Comparison> ReadComparisons() => Read(connection => Rows(connection,
        "SELECT external_id, prompt, response_a, response_b, model_a, model_b FROM items ORDER BY id;",
        r => new Comparison(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5))));

    /// <summary>Whether the item was shown with model A's response on the left (by comparison id).</summary>
    public bool? IsAOnLeft(string comparisonId) => Read(connection =>
        Long(connection, "SELECT a_on_left FROM items WHERE external_id = $id;", ("$id", comparisonId)) is { } v ? v == 1 : (bool?)null);
}
