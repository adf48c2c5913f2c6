namespace RlhfSharp.Training.Plots;

/// <summary>
/// A metrics.jsonl key to draw with <see cref="TrainingCurvePlot"/>.FromMetrics,
/// with an optional key whose value shades a ± band around it, and optionally on the right-hand axis.
/// </summary>
public sealed record MetricCurve(string Name, string? SpreadName = null, bool SecondaryAxis = false);
