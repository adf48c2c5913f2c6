using System.Diagnostics;
using System.Text.RegularExpressions;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Distributed;

/// <summary>What a user sees of a run under mpirun or with its output redirected: no terminal control codes, world totals, README commands that run clean.</summary>
public class MpiOutputTests
{
    const char Escape = '\u001b';

    [MpiFact]
    public void Output_under_mpirun_has_no_terminal_control_codes()
    {
        var result = MpiRun.Cli(1, "generate", "--model", TrainingCommandTestsModels.TinyModel, "--prompt", "Hello", "--max-new-tokens", "3", "--greedy");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("ids: ", result.Output);
        Assert.DoesNotContain(Escape, result.Output);
        Assert.DoesNotContain(Escape, result.Error);
    }

    [Fact]
    public void Redirected_output_has_no_terminal_control_codes()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot };
        foreach (string arg in (string[])[Path.Combine(AppContext.BaseDirectory, "rlhf.dll"), "generate", "--model", TrainingCommandTestsModels.TinyModel, "--prompt", "Hello", "--max-new-tokens", "3", "--greedy"])
            start.ArgumentList.Add(arg);
        start.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)));
        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("ids: ", output);
        Assert.DoesNotContain(Escape, output);
    }

    [Fact]
    public void Output_captured_in_process_has_no_terminal_control_codes()
    {
        var result = CliRunner.Run("generate", "--model", TrainingCommandTestsModels.TinyModel, "--prompt", "Hello", "--max-new-tokens", "3", "--greedy");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.DoesNotContain(Escape, result.Output);
    }

    /// <summary>A bare `-x NAME` makes mpirun warn unless the user exported NAME; every example passes the wait policy with its value.</summary>
    [Fact]
    public void Readme_mpirun_examples_pass_the_wait_policy_with_a_value()
    {
        var commands = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "README.md"))
            .Where(line => Regex.IsMatch(line, @"^\s*(\S+=\S+\s+)*mpirun\s")).ToList();
        Assert.NotEmpty(commands);
        Assert.All(commands, line => Assert.Contains("-x OMP_WAIT_POLICY=PASSIVE", line));
        Assert.All(commands, line => Assert.DoesNotMatch(@"-x OMP_WAIT_POLICY(\s|$)", line));
    }
}
