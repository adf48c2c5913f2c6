namespace RlhfSharp.Training;

/// <summary>
/// A request to end a run early but cleanly: a scheduler about to preempt a job sends SIGTERM, and the run then stops at
/// the next step boundary with a checkpoint instead of dying mid-step, so `--resume` loses at most the step under way.
/// <see cref="TrainingRun"/> honours the request of the logical call context it runs in (<see cref="Current"/>), so two
/// runs in one process (tests) each see only their own; under mpirun the ranks agree on the step before stopping.
/// </summary>
public sealed class StopRequest
{
    static readonly AsyncLocal<StopRequest?> CurrentRequest = new();
    volatile bool _requested;
    long _stoppedAfterStep = -1;

    /// <summary>The request runs started from this call context honour; null: none.</summary>
    public static StopRequest? Current
    {
        get => CurrentRequest.Value;
        set => CurrentRequest.Value = value;
    }

    /// <summary>Whether a stop was asked for (safe to read and set from a signal's thread).</summary>
    public bool Requested => _requested;

    /// <summary>Asks the run to stop after the step under way; returns false when it had been asked already.</summary>
    public bool Request()
    {
        bool first = !_requested;
        _requested = true;
        return first;
    }

    /// <summary>The step after which a run stopped for this request (its checkpoint's step); null while none has.</summary>
    public long? StoppedAfterStep
    {
        get => Interlocked.Read(ref _stoppedAfterStep) is var step and >= 0 ? step : null;
        internal set => Interlocked.Exchange(ref _stoppedAfterStep, value ?? -1);
    }
}
