using RlhfSharp.Training.Metrics;
using Spectre.Console;

namespace RlhfSharp.Cli.Display;

/// <summary>
/// A Spectre.Console live progress bar rendered by its own task: <see cref="Report"/> only stores the latest
/// step and metrics text, and the render loop picks them up, so the training loop never waits on the console.
/// </summary>
internal sealed class LiveProgressBar : IStepProgress
{
    static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(200);

    readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly Task _render;
    long _step;
    string _metricsText = "";

    public LiveProgressBar(IAnsiConsole console, string description, long totalSteps, long startStep)
    {
        _step = startStep;
        Progress progress = console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn());
        _render = Task.Run(() => progress.StartAsync(async context =>
        {
            // Not auto-started, so the resumed-from value does not count towards Spectre's speed estimate.
            ProgressTask task = context.AddTask(Markup.Escape(description), autoStart: false, maxValue: totalSteps);
            task.Value = startStep;
            task.StartTask();
            while (!_finished.Task.IsCompleted)
            {
                Update(task, description, totalSteps);
                await Task.WhenAny(_finished.Task, Task.Delay(RefreshInterval));
            }
            Update(task, description, totalSteps);
        }));
    }

    public void Report(long step, IReadOnlyDictionary<string, double> liveMetrics)
    {
        Volatile.Write(ref _metricsText, ProgressText.Metrics(liveMetrics));
        Volatile.Write(ref _step, step);
    }

    public void Dispose()
    {
        _finished.TrySetResult();
        _render.GetAwaiter().GetResult();
    }

    void Update(ProgressTask task, string description, long totalSteps)
    {
        long step = Volatile.Read(ref _step);
        task.Value = step;
        task.Description = Markup.Escape($"{description} {step}/{totalSteps} {Volatile.Read(ref _metricsText)}".TrimEnd());
    }
}
