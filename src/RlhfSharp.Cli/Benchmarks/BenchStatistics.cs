namespace RlhfSharp.Cli.Benchmarks;

internal static class BenchStatistics
{
    /// <summary>The median (NaN for no values): robust to the odd run slowed by another process.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) return double.NaN;
        int middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
