using System.Diagnostics;
using System.Runtime.InteropServices;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Tests.Distributed;
using RlhfSharp.Training;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// SIGTERM, as a scheduler sends before preempting a job: the run stops at the next step boundary with a checkpoint and
/// exits 0 saying how to continue, alone or under mpirun (the ranks agree on the step), and --resume then trains the same
/// weights as a run that was never stopped.
/// </summary>
[Trait("Category", "Slow")] // training subprocesses
public partial class TerminationTests
{
    const int Steps = 600;

    static string[] Sft(string data, string outDir, params string[] extra) =>
        ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, "--max-steps", $"{Steps}", "--batch-size", "2",
         "--max-length", "48", "--learning-rate", "1e-3", "--save-every", "1000", "--eval-every", "1000", "--log-every", "1", .. extra];

    static readonly TimeSpan Budget = TimeSpan.FromMinutes(5);

    const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    /// <summary>Starts <paramref name="program"/>, waits until the run reports a step on its output, sends SIGTERM to the processes
    /// <paramref name="signalled"/> picks (the started process by default) and returns how the run ended.</summary>
    static CliResult RunAndTerminate(string program, IEnumerable<string> args, Func<Process, IEnumerable<int>>? signalled = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot };
        start.Environment["OMP_NUM_THREADS"] = "1";
        foreach (string arg in args) start.ArgumentList.Add(arg);
        var output = new System.Text.StringBuilder();
        using var stepped = new ManualResetEventSlim();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null) return;
            lock (output) output.AppendLine(line.Data);
            if (line.Data.Contains($"/{Steps} (", StringComparison.Ordinal)) stepped.Set(); // "sft: step 5/400 (1%) ..."
        };
        process.Start();
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        var watch = Stopwatch.StartNew();
        while (!stepped.Wait(20))
        {
            if (process.HasExited) Assert.Fail($"the run ended before it reported a step: {stderr.Result}{output}");
            Assert.True(watch.Elapsed < Budget, "the run reported no step");
        }
        foreach (int pid in signalled?.Invoke(process) ?? [process.Id])
        {
            Assert.True(Kill(pid, SigTerm) == 0, $"kill({pid}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        if (!process.WaitForExit(Budget)) { process.Kill(true); throw new TimeoutException("the run did not stop after SIGTERM"); }
        process.WaitForExit(); // the output's last lines
        lock (output) return new CliResult(process.ExitCode, output.ToString(), stderr.Result);
    }

    /// <summary>The step a "stopped by SIGTERM after step N; checkpoint ..." line names, checked against the checkpoints on disk.</summary>
    /// <param name="rootSignalled">Rank 0 (the one that talks) got the signal itself, so it said so at once.</param>
    static long StoppedStep(CliResult result, string outDir, bool rootSignalled = true)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}{result.Output}");
        if (rootSignalled) Assert.Contains("SIGTERM: stopping after this step with a checkpoint", result.Error);
        string line = Assert.Single(result.Output.Split('\n'), l => l.StartsWith("stopped by SIGTERM after step ", StringComparison.Ordinal));
        long step = long.Parse(line["stopped by SIGTERM after step ".Length..line.IndexOf(';')], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(step, 1, Steps - 1);
        string checkpoint = Path.Combine(outDir, "checkpoints", $"step-{step:D8}");
        Assert.Equal($"stopped by SIGTERM after step {step}; checkpoint {checkpoint}; continue with the same command plus --resume", line.Trim());
        Assert.Equal([checkpoint], Directory.GetDirectories(Path.Combine(outDir, "checkpoints")));
        Assert.False(File.Exists(Path.Combine(outDir, "model.safetensors")), "a stopped run wrote the final model");
        Assert.DoesNotContain("done: ", result.Output);
        return step;
    }

    [Fact]
    public void Sigterm_stops_at_the_next_step_with_a_checkpoint_and_resume_trains_the_uninterrupted_weights()
    {
        string data = TrainingCommandTestsModels.HhSample(24), root = TestPaths.NewTempDirectory();
        string stopped = Path.Combine(root, "stopped"), whole = Path.Combine(root, "whole");
        string dll = Path.Combine(AppContext.BaseDirectory, "rlhf.dll");

        StoppedStep(RunAndTerminate("dotnet", [dll, .. Sft(data, stopped)]), stopped);
        var resumed = MpiRun.Single(Sft(data, stopped, "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        Assert.Contains($"done: {Steps} steps", resumed.Output);
        var reference = MpiRun.Single(Sft(data, whole));
        Assert.True(reference.ExitCode == 0, reference.Error + reference.Output);
        Assert.Equal(0, MpiRun.MaxWeightDifference(stopped, whole));
    }

    [MpiFact]
    public void Sigterm_to_one_rank_stops_every_rank_after_the_same_step()
    {
        string data = TrainingCommandTestsModels.HhSample(24), outDir = Path.Combine(TestPaths.NewTempDirectory(), "sft");
        string[] mpirun = ["--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "OMP_NUM_THREADS=1", "-x", "OMP_WAIT_POLICY=PASSIVE",
            "dotnet", Path.Combine(AppContext.BaseDirectory, "rlhf.dll"), .. Sft(data, outDir)];
        // As a scheduler signals the processes of a job: here only the rank mpirun started last, so rank 0 learns it from the other.
        var result = RunAndTerminate(MpiRun.Mpirun!, mpirun, mpirunProcess => [Ranks(mpirunProcess.Id).Max()]);
        StoppedStep(result, outDir, rootSignalled: false);
    }

    /// <summary>The parent of a process (field 4 of /proc/PID/stat, after the parenthesised name); 0 once it has gone.</summary>
    static int ParentOf(string pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    /// <summary>The rank processes mpirun started (its children).</summary>
    static IReadOnlyList<int> Ranks(int mpirunPid)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var children = Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(name => name!.All(char.IsAsciiDigit))
                .Where(pid => ParentOf(pid!) == mpirunPid).Select(pid => int.Parse(pid!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            if (children.Count == 2) return children;
            Assert.True(watch.Elapsed < Budget, $"mpirun has {children.Count} children");
            Thread.Sleep(20);
        }
    }
}

public class StopRequestTests
{
    [Fact]
    public void The_first_request_counts_and_a_second_reports_that_it_came_before()
    {
        var request = new StopRequest();
        Assert.False(request.Requested);
        Assert.Null(request.StoppedAfterStep);
        Assert.True(request.Request());
        Assert.True(request.Requested);
        Assert.False(request.Request());
    }

    [Fact]
    public void The_message_names_the_step_the_checkpoint_and_how_to_continue()
    {
        Assert.Equal("stopped by SIGTERM after iteration 3; checkpoint runs/p/checkpoints/step-00000003; continue with the same command plus --resume",
            TerminationRequest.Message("iteration", 3, "runs/p/checkpoints/step-00000003", resumed: false));
        Assert.Equal("stopped by SIGTERM after step 9; checkpoint c; continue with the same command", TerminationRequest.Message("step", 9, "c", resumed: true));
    }

    [Fact]
    public void A_termination_request_is_the_current_one_while_it_lasts()
    {
        var before = StopRequest.Current;
        using (var termination = new TerminationRequest("step", talks: false, TextWriter.Null))
            Assert.Same(termination.Request, StopRequest.Current);
        Assert.Same(before, StopRequest.Current);
    }
}
