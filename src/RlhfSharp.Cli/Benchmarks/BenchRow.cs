namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// One measured case: our value and PyTorch's (null without --compare-pytorch) in <see cref="Unit"/>, our time
/// over PyTorch's (median over runs; below 1 is faster), notes for the table, and the raw numbers for the JSON.
/// </summary>
internal sealed record BenchRow(string Case, string Unit, double Ours, double? Pytorch, double? TimeRatio, string Notes, IReadOnlyDictionary<string, object> Details);
