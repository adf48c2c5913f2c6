using System.Collections.Concurrent;
using RlhfSharp.Hub;
using Spectre.Console;

namespace RlhfSharp.Cli.Display;

/// <summary>Shows hub downloads: a live bar per file on a terminal someone watches, else a line per file.</summary>
internal static class DownloadDisplay
{
    public static IDownloadDisplay For(TextWriter writer) =>
        CliApp.ShowsLiveProgress(writer) ? new LiveDownloadDisplay(AnsiConsole.Console) : new PlainDownloadDisplay(writer);

    /// <summary>"1.5 MB", "443.2 KB", "12 B" (decimal units, as the hub's pages show sizes).</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1_000_000_000 => $"{bytes / 1e9:0.0} GB",
        >= 1_000_000 => $"{bytes / 1e6:0.0} MB",
        >= 1_000 => $"{bytes / 1e3:0.0} KB",
        _ => $"{bytes} B",
    };
}

/// <summary>Download progress the command disposes when the downloads are over (a live display then stops).</summary>
internal interface IDownloadDisplay : IDownloadProgress, IDisposable;

/// <summary>A line when each file starts (and where a partial download resumes); notes as "note: ..." lines.</summary>
internal sealed class PlainDownloadDisplay(TextWriter writer) : IDownloadDisplay, IFileProgress
{
    public IFileProgress Start(string fileName, long totalBytes, long bytesAlreadyThere)
    {
        writer.WriteLine(bytesAlreadyThere > 0
            ? $"downloading {fileName} ({DownloadDisplay.Size(totalBytes)}), resuming at {DownloadDisplay.Size(bytesAlreadyThere)}"
            : $"downloading {fileName} ({DownloadDisplay.Size(totalBytes)})");
        return this;
    }

    public void Note(string message) => writer.WriteLine($"note: {message}");

    public void Report(long bytesThere) { }

    public void Dispose() { }
}

/// <summary>
/// Spectre.Console bars, one per file, drawn by their own task from the byte counts the download stores, so the
/// download never waits on the console. The display starts with the first file: a cached model draws nothing.
/// </summary>
internal sealed class LiveDownloadDisplay(IAnsiConsole console) : IDownloadDisplay
{
    static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(100);

    sealed class FileBar(string name, long total, long start) : IFileProgress
    {
        long _bytes = -1;
        volatile bool _done;

        public string Name => name;
        public long Total => total;
        public long Start => start;
        public long Bytes => Volatile.Read(ref _bytes) is var bytes and >= 0 ? bytes : start;
        public bool Done => _done;

        public void Report(long bytesThere) => Volatile.Write(ref _bytes, bytesThere);

        public void Dispose() => _done = true;
    }

    readonly ConcurrentQueue<FileBar> _started = new();
    readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Task? _render;

    public IFileProgress Start(string fileName, long totalBytes, long bytesAlreadyThere)
    {
        var bar = new FileBar(fileName, totalBytes, bytesAlreadyThere);
        _started.Enqueue(bar);
        _render ??= Task.Run(Render);
        return bar;
    }

    public void Note(string message) => console.MarkupLine($"note: {Markup.Escape(message)}");

    public void Dispose()
    {
        _finished.TrySetResult();
        _render?.GetAwaiter().GetResult();
    }

    Task Render() => console.Progress()
        .AutoClear(false)
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
            new TransferSpeedColumn(), new RemainingTimeColumn())
        .StartAsync(async context =>
        {
            var bars = new List<(FileBar File, ProgressTask Task)>();
            while (true)
            {
                bool last = _finished.Task.IsCompleted;
                while (_started.TryDequeue(out var file))
                {
                    // Not auto-started, so a resumed part does not count towards the speed.
                    var task = context.AddTask(Markup.Escape(file.Name), autoStart: false, maxValue: Math.Max(1, file.Total));
                    task.Value = file.Start;
                    task.StartTask();
                    bars.Add((file, task));
                }
                foreach (var (file, task) in bars)
                {
                    task.Value = file.Bytes;
                    if (file.Done && !task.IsFinished) task.StopTask();
                }
                if (last) return;
                await Task.WhenAny(_finished.Task, Task.Delay(RefreshInterval));
            }
        });
}
