using RlhfSharp.Training.Metrics;
using Spectre.Console;

namespace RlhfSharp.Cli.Display;

/// <summary>Progress as a live bar on <paramref name="console"/> (<see cref="LiveProgressBar"/>); messages go to <paramref name="log"/>.</summary>
internal sealed class LiveProgressSink(IAnsiConsole console, TextWriter log) : IProgressSink
{
    public TextWriter Log => log;

    public IStepProgress Start(string description, long totalSteps, long startStep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(startStep);
        return new LiveProgressBar(console, description, totalSteps, startStep);
    }
}
