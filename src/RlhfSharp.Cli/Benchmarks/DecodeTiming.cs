namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// One cached greedy generation: its wall time (prefill included) and the time of each later step (one new
/// token per row: the forward pass through the cache and the choice of the token), in seconds.
/// </summary>
internal sealed record DecodeTiming(double Seconds, IReadOnlyList<double> StepSeconds)
{
    /// <summary>Steps whose median stands for each end: single steps are too noisy on a shared machine.</summary>
    const int Window = 8;

    public double FirstStep => BenchStatistics.Median(StepSeconds.Take(Window));

    public double LastStep => BenchStatistics.Median(StepSeconds.TakeLast(Window));

    /// <summary>How much more the last new token cost than the first (a growing cache makes it > 1).</summary>
    public double Growth => LastStep / FirstStep;
}
