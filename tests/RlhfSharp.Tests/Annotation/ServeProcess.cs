using System.Diagnostics;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Annotation;

/// <summary>
/// `./rlhf annotate serve …` in its own process, as a user runs it: started, read until it says it serves (the lines it
/// printed until then in <see cref="StartupLines"/>), stopped with Ctrl+C; killed on dispose if it is still running.
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    readonly Process _process;
    readonly Task<string> _stderr;

    ServeProcess(Process process, Task<string> stderr, IReadOnlyList<string> startupLines) => (_process, _stderr, StartupLines) = (process, stderr, startupLines);

    public IReadOnlyList<string> StartupLines { get; }

    /// <summary>The address it serves on (its "serving on URL" line).</summary>
    public string Url => StartupLines.Single(l => l.StartsWith("serving on ")).Split(' ')[2];

    /// <summary>The admin link it printed ("admin: URL").</summary>
    public Uri AdminLink => new(StartupLines.Single(l => l.StartsWith("admin: "))["admin: ".Length..]);

    public static async Task<ServeProcess> StartAsync(string workingDirectory, params string[] serveArgs)
    {
        CliRunner.RunScript("annotate", "--help"); // builds the CLI first if needed, so the server starts within the wait below
        var start = new ProcessStartInfo(Path.Combine(TestPaths.RepositoryRoot, "rlhf"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory,
        };
        foreach (string arg in (string[])["annotate", "serve", .. serveArgs]) start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(); // drained, so the server never blocks on a full pipe
        try
        {
            var lines = new List<string>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                if (line.StartsWith("press Ctrl+C")) break;
            }
            return new ServeProcess(process, stderr, lines);
        }
        catch
        {
            if (!process.HasExited) process.Kill(true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Ctrl+C, then its exit code once it has stopped (within 30 s).</summary>
    public int Stop()
    {
        Process.Start("kill", ["-INT", $"{_process.Id}"])!.WaitForExit();
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(30)), "serve stops on Ctrl+C");
        return _process.ExitCode;
    }

    /// <summary>What it printed after <see cref="StartupLines"/>, standard error included (read once it has stopped).</summary>
    public async Task<string> RestOfOutputAsync() => await _process.StandardOutput.ReadToEndAsync() + await _stderr;

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(true);
        _process.Dispose();
    }
}
