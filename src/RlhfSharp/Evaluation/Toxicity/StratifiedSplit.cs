namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>Seeded random subsets that keep each label's share, so a held-out set of a skewed dataset is like the rest.</summary>
internal static class StratifiedSplit
{
    /// <summary>Row indices split into (kept, taken), with about <paramref name="fraction"/> of each label taken.</summary>
    public static (int[] Kept, int[] Taken) Split(IReadOnlyList<bool> labels, double fraction, int seed)
    {
        var random = new Random(seed);
        var kept = new List<int>();
        var taken = new List<int>();
        foreach (bool label in new[] { true, false })
        {
            int[] rows = Enumerable.Range(0, labels.Count).Where(i => labels[i] == label).ToArray();
            random.Shuffle(rows);
            int take = Taken(rows.Length, fraction);
            taken.AddRange(rows[..take]);
            kept.AddRange(rows[take..]);
        }
        kept.Sort();
        taken.Sort();
        return (kept.ToArray(), taken.ToArray());
    }

    /// <summary>How many of <paramref name="rows"/> rows of one label <see cref="Split"/> takes.</summary>
    public static int Taken(int rows, double fraction) => (int)Math.Round(rows * fraction);
}
