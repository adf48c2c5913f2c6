using System.Diagnostics;
using RlhfSharp.Cli;

namespace RlhfSharp.Tests.Cli;

public sealed record CliResult(int ExitCode, string Output, string Error);

public static class CliRunner
{
    /// <summary>Runs the CLI in this process, capturing both streams.</summary>
    public static CliResult Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the repository's ./rlhf script as a user would (it builds the CLI when needed).</summary>
    public static CliResult RunScript(params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(TestPaths.RepositoryRoot, "rlhf"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(true); throw new TimeoutException("./rlhf did not finish"); }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
