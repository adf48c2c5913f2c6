namespace RlhfSharp.Distributed;

/// <summary>Metrics of the whole world rather than of one rank, computed before anything is logged.</summary>
public static class DistributedMetrics
{
    /// <summary>
    /// The mean over ranks of each metric (every rank must pass the same names); names in <paramref name="summed"/>
    /// are added instead (throughputs). Each rank gets the same dictionary back.
    /// </summary>
    public static Dictionary<string, double> Mean(IDistributed world, IReadOnlyDictionary<string, double> metrics, params string[] summed)
    {
        var result = new Dictionary<string, double>(metrics);
        if (world.Size == 1) return result;
        string[] names = metrics.Keys.Order(StringComparer.Ordinal).ToArray();
        double[] values = names.Select(n => metrics[n]).ToArray();
        world.AllReduce(values);
        for (int i = 0; i < names.Length; i++) result[names[i]] = summed.Contains(names[i]) ? values[i] : values[i] / world.Size;
        return result;
    }
}
