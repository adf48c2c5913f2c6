namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Runs our side and the reference's in turn (warm-up each, then ours, theirs, ours, theirs ...), so a change
/// in machine load during the run falls on both sides alike instead of on whichever went second.
/// </summary>
internal static class Alternation
{
    /// <summary>Any number of sides in turn (warm-up each, then each once per repeat): the runs of each side, in order.</summary>
    public static List<T>[] RunAll<T>(int repeats, IReadOnlyList<Func<T>> sides)
    {
        foreach (var side in sides) side();
        var runs = sides.Select(_ => new List<T>()).ToArray();
        for (int r = 0; r < repeats; r++)
            for (int s = 0; s < sides.Count; s++) runs[s].Add(sides[s]());
        return runs;
    }

    public static (List<T> Ours, List<T>? Reference) Run<T>(int repeats, Func<T> ours, Func<T>? reference)
    {
        var runs = RunAll<T>(repeats, reference is null ? [ours] : [ours, reference]);
        return (runs[0], reference is null ? null : runs[1]);
    }
}
