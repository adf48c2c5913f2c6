namespace RlhfSharp.Training.Metrics;

/// <summary>One line of metrics.jsonl: the step, its unix time in seconds and the named scalars.</summary>
public sealed record MetricsRow(long Step, double Time, IReadOnlyDictionary<string, double> Values);
