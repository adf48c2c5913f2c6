namespace RlhfSharp.Training.Metrics;

/// <summary>
/// Where a run tells the person running it how it goes: messages (a resume line, sample tables, the data-parallel
/// report) and progress through its steps. The library draws nothing itself: the command line shows a live bar on a
/// terminal and plain lines elsewhere; <see cref="SilentProgress"/> shows nothing.
/// </summary>
public interface IProgressSink
{
    /// <summary>Messages, one or more whole lines each.</summary>
    TextWriter Log { get; }

    /// <summary>
    /// Starts showing progress through <paramref name="totalSteps"/> steps, <paramref name="startStep"/> of them done
    /// before (a resumed run); disposing what it returns shows the last reported step and stops.
    /// </summary>
    IStepProgress Start(string description, long totalSteps, long startStep);
}

/// <summary>Progress through the steps of one run, from <see cref="IProgressSink.Start"/>.</summary>
public interface IStepProgress : IDisposable
{
    /// <summary>Records that <paramref name="step"/> steps are done, with the metrics to show beside them; cheap enough to call every step.</summary>
    void Report(long step, IReadOnlyDictionary<string, double> liveMetrics);
}
