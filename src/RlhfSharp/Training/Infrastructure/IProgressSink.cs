namespace RlhfSharp.Training.Infrastructure;

/// <summary>Where <see cref="TrainingProgress"/> sends its updates: a live bar or plain log lines.</summary>
internal interface IProgressSink : IDisposable
{
    void Report(long step, IReadOnlyDictionary<string, double> liveMetrics);
}
