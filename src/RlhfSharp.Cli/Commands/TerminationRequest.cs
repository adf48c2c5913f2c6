using System.Runtime.InteropServices;
using RlhfSharp.Distributed;
using RlhfSharp.Training;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// SIGTERM during a training run, as a scheduler sends before it preempts a job: the first one asks the run to stop at the
/// next step boundary with a checkpoint (<see cref="StopRequest"/>) and the command then exits 0 saying how to continue;
/// a second one ends the process at once, as SIGTERM normally would. Every rank listens (schedulers signal each process;
/// mpirun forwards it), and only rank 0 talks. Under mpirun, a SIGTERM that follows the loss of another rank is mpirun
/// stopping the job, not a preemption: <see cref="PeerWatch.OnTermination"/> then ends the process naming that rank.
/// </summary>
internal sealed class TerminationRequest : IDisposable
{
    readonly PosixSignalRegistration _registration;
    readonly StopRequest? _previous;

    public TerminationRequest(string unit, bool talks, TextWriter error)
    {
        _previous = StopRequest.Current;
        StopRequest.Current = Request;
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            // Under mpirun, a rank that was lost or failed makes mpirun stop the others with SIGTERM: that is no preemption,
            // and the watch then ends this process with its own line naming that rank.
            PeerWatch.Current?.OnTermination();
            if (!Request.Request()) return; // the second: terminate now
            context.Cancel = true;
            if (!talks) return;
            error.WriteLine($"SIGTERM: stopping after this {unit} with a checkpoint (a second SIGTERM ends the process now)");
            error.Flush();
        });
    }

    public StopRequest Request { get; } = new();

    /// <summary>
    /// "stopped by SIGTERM after step 7; checkpoint runs/x/checkpoints/step-00000007; continue with the same command plus --resume".
    /// </summary>
    public static string Message(string unit, long step, string checkpoint, bool resumed) =>
        $"stopped by SIGTERM after {unit} {step}; checkpoint {checkpoint}; continue with {(resumed ? "the same command" : "the same command plus --resume")}";

    public void Dispose()
    {
        _registration.Dispose();
        StopRequest.Current = _previous;
    }
}
