namespace RlhfSharp.Training.Metrics;

/// <summary>Shows nothing: the default of a run given no <see cref="IProgressSink"/>, and every rank's but rank 0's.</summary>
internal sealed class SilentProgress : IProgressSink, IStepProgress
{
    public static readonly SilentProgress Instance = new();

    SilentProgress() { }

    public TextWriter Log => TextWriter.Null;

    public IStepProgress Start(string description, long totalSteps, long startStep) => this;

    public void Report(long step, IReadOnlyDictionary<string, double> liveMetrics) { }

    public void Dispose() { }
}
