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

    /// <summary>
    /// How long a short ./rlhf command may take before it counts as hung. Quiet (2 cores, nothing else running): a
    /// few seconds for the commands the tests run (a 3-step tiny sft: 1.2 s of CPU), plus about 40 s when the script
    /// first builds the CLI; 5 minutes is 7 times that, room for a machine shared with other builds and test runs.
    /// </summary>
    public static readonly TimeSpan ShortCommandBudget = TimeSpan.FromMinutes(5);

    /// <summary>Runs the repository's ./rlhf script as a user would (it builds the CLI when needed).</summary>
    public static CliResult RunScript(params string[] args) => RunScript(ShortCommandBudget, args);

    /// <summary>Runs ./rlhf, killing it (and failing) if it has not finished within <paramref name="budget"/>.</summary>
    public static CliResult RunScript(TimeSpan budget, params string[] args) => RunScript(budget, new Dictionary<string, string?>(), null, args);

    /// <summary>
    /// Runs ./rlhf with these environment variables set (a null value: removed) and in <paramref name="workingDirectory"/>
    /// (null: the repository root).
    /// </summary>
    public static CliResult RunScript(TimeSpan budget, IReadOnlyDictionary<string, string?> environment, string? workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(TestPaths.RepositoryRoot, "rlhf"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? TestPaths.RepositoryRoot,
        };
        foreach (var (name, value) in environment)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(budget)) { process.Kill(true); throw new TimeoutException($"./rlhf {string.Join(' ', args)} did not finish within {budget}"); }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A refused command: exit code 1 and exactly one "error: ..." line on stderr that contains every part.</summary>
    public static void AssertOneLineError(CliResult result, params string[] expected)
    {
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.Error}{result.Output}");
        Assert.StartsWith("error: ", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
        foreach (string part in expected) Assert.Contains(part, result.Error);
    }
}
