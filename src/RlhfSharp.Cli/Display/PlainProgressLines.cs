using System.Diagnostics;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Cli.Display;

/// <summary>
/// Progress as occasional whole lines, for logs and CI: the first step, then every ~5% of the steps or
/// every <see cref="Interval"/>, and the last step, e.g. <c>sft: step 120/1000 (12%) loss 2.3456 eta 0:03:10</c>.
/// </summary>
internal sealed class PlainProgressLines(string description, long totalSteps, long startStep, TextWriter output) : IStepProgress
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    readonly long _stepsBetweenLines = Math.Max(1, (totalSteps - startStep) / 20);
    readonly Stopwatch _clock = Stopwatch.StartNew();
    TimeSpan _lastLineTime;
    long? _lastLineStep;
    (long Step, IReadOnlyDictionary<string, double> Metrics)? _unprinted;

    public void Report(long step, IReadOnlyDictionary<string, double> liveMetrics)
    {
        bool due = _lastLineStep is not { } last
            || step >= totalSteps
            || step - last >= _stepsBetweenLines
            || _clock.Elapsed - _lastLineTime >= Interval;
        if (due) WriteLine(step, liveMetrics);
        else _unprinted = (step, new Dictionary<string, double>(liveMetrics));
    }

    /// <summary>Ends with the last reported step, so a run that stops early still logs where it stopped.</summary>
    public void Dispose()
    {
        if (_unprinted is { } pending) WriteLine(pending.Step, pending.Metrics);
    }

    void WriteLine(long step, IReadOnlyDictionary<string, double> metrics)
    {
        TimeSpan elapsed = _clock.Elapsed;
        long percent = totalSteps > 0 ? step * 100 / totalSteps : 100;
        string metricsText = ProgressText.Metrics(metrics);
        TimeSpan? eta = ProgressText.Eta(startStep, step, totalSteps, elapsed);
        output.WriteLine($"{description}: step {step}/{totalSteps} ({percent}%)"
            + (metricsText.Length > 0 ? " " + metricsText : "")
            + (eta is { } remaining ? " eta " + ProgressText.Duration(remaining) : ""));
        output.Flush();
        _lastLineStep = step;
        _lastLineTime = elapsed;
        _unprinted = null;
    }
}
