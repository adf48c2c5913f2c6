using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Cli.Display;

/// <summary>Messages and progress as plain lines on <paramref name="output"/>, for logs, pipes and CI (<see cref="PlainProgressLines"/>).</summary>
internal sealed class PlainProgressSink(TextWriter output) : IProgressSink
{
    public TextWriter Log => output;

    public IStepProgress Start(string description, long totalSteps, long startStep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(startStep);
        return new PlainProgressLines(description, totalSteps, startStep, output);
    }
}
