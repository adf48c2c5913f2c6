using Spectre.Console;

namespace RlhfSharp.Training.Infrastructure;

/// <summary>
/// Progress of a training loop with a known number of steps. On an interactive console: a live Spectre bar
/// with ETA and the live metrics. When output is redirected or in CI (where a live bar prints only sparse
/// lines), or when <c>plainOutput</c> is given: a plain line every ~5% of the steps or every 30 seconds.
/// </summary>
public sealed class TrainingProgress : IDisposable
{
    readonly IProgressSink _sink;

    public TrainingProgress(string description, long totalSteps, long startStep = 0, TextWriter? plainOutput = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(startStep);
        _sink = plainOutput is null && IsInteractiveConsole()
            ? new LiveProgressSink(AnsiConsole.Console, description, totalSteps, startStep)
            : new PlainProgressSink(description, totalSteps, startStep, plainOutput ?? Console.Out);
    }

    /// <summary>Records that <paramref name="step"/> steps are done; cheap enough to call every step.</summary>
    public void Report(long step, IReadOnlyDictionary<string, double> liveMetrics) => _sink.Report(step, liveMetrics);

    /// <summary>Shows the last reported step and stops the display.</summary>
    public void Dispose() => _sink.Dispose();

    static bool IsInteractiveConsole() =>
        !Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
        && AnsiConsole.Profile.Capabilities.Interactive;
}
