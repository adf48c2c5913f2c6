using System.Runtime.InteropServices;
using RlhfSharp.Training;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// While a training run is going, Ctrl-C (SIGINT) first prints one line to <c>error</c>: the step reached, the last
/// checkpoint and how to continue; the process then ends as it would anyway (exit code 130).
/// </summary>
internal sealed class InterruptNotice : IDisposable
{
    readonly PosixSignalRegistration _registration;

    /// <param name="unit">"step" or "iteration".</param>
    /// <param name="completed">Steps done so far (read on the signal's thread).</param>
    /// <param name="resumed">The command already has --resume.</param>
    public InterruptNotice(string outDir, string unit, Func<long> completed, long saveEvery, bool resumed, TextWriter error)
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ =>
        {
            error.WriteLine(Message(unit, completed(), new TrainingCheckpoints(outDir).Latest, saveEvery, resumed));
            error.Flush();
        });
    }

    /// <summary>
    /// "interrupted after step 7; last checkpoint runs/x/checkpoints/step-00000006; continue with the same command plus --resume",
    /// or, before any checkpoint, that nothing can be resumed.
    /// </summary>
    public static string Message(string unit, long completed, string? lastCheckpoint, long saveEvery, bool resumed)
    {
        string command = resumed ? "the same command" : "the same command plus --resume";
        return lastCheckpoint is null
            ? $"interrupted after {unit} {completed}, before the first checkpoint (one every {saveEvery} {unit}s); nothing to resume from: {command} starts the run over"
            : $"interrupted after {unit} {completed}; last checkpoint {lastCheckpoint}; continue with {command}";
    }

    public void Dispose() => _registration.Dispose();
}
