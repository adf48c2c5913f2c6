namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Runs our side and the reference's in turn (warm-up each, then ours, theirs, ours, theirs ...), so a change
/// in machine load during the run falls on both sides alike instead of on whichever went second.
/// </summary>
internal static class Alternation
{
    public static (List<T> Ours, List<T>? Reference) Run<T>(int repeats, Func<T> ours, Func<T>? reference)
    {
        ours();
        reference?.Invoke();
        var mine = new List<T>();
        List<T>? theirs = reference is null ? null : [];
        for (int r = 0; r < repeats; r++)
        {
            mine.Add(ours());
            if (reference is not null) theirs!.Add(reference());
        }
        return (mine, theirs);
    }
}
