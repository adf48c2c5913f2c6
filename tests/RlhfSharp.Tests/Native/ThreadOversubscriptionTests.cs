using RlhfSharp.Native;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Distributed;

namespace RlhfSharp.Tests.Native;

public class ThreadOversubscriptionTests
{
    [Fact]
    public void More_threads_than_cores_is_a_warning_that_says_what_to_pass_mpirun()
    {
        Assert.Null(TorchRuntime.OversubscriptionWarning(threads: 2, cores: 2, underLauncher: true));
        Assert.Null(TorchRuntime.OversubscriptionWarning(threads: 1, cores: 8, underLauncher: false));
        Assert.Equal("warning: 4 LibTorch threads, but this process may run on 1 core, so they take turns (mpirun binds each rank of a " +
            "2-rank job to one core by default: pass --bind-to none, or --map-by node:PE=4)", TorchRuntime.OversubscriptionWarning(4, 1, underLauncher: true));
        Assert.Equal("warning: 3 LibTorch threads, but this process may run on 2 cores, so they take turns (its CPU affinity or a CPU " +
            "limit: taskset, a container's or a scheduler's)", TorchRuntime.OversubscriptionWarning(3, 2, underLauncher: false));
    }

    /// <summary>
    /// One rank under mpirun bound to one hardware thread (as to one core, Open MPI's default for up to 2 ranks, on a machine
    /// without SMT): 2 threads there warn; unbound, not.
    /// </summary>
    [Trait("Category", "Slow")] // mpirun subprocesses
    [MpiFact]
    public void A_rank_bound_to_one_core_with_two_threads_warns_and_an_unbound_one_does_not()
    {
        if (Environment.ProcessorCount < 2 || !OperatingSystem.IsLinux()) return; // one core: every process is "bound" to it
        string[] bench = ["bench", "data-parallel", "--steps", "1", "--sequence", "8", "--batch-size", "1", "--allreduce-mb", "1", "--threads", "2",
            "--out", TestPaths.NewTempDirectory()];
        string mpirun = Path.Combine(TestPaths.NewTempDirectory(), "mpirun-bound");
        foreach (var (binding, warns) in new[] { ("hwthread", true), ("none", false) })
        {
            File.WriteAllText(mpirun, $"#!/bin/sh\nexec {MpiRun.Mpirun} --bind-to {binding} \"$@\"\n");
            File.SetUnixFileMode(mpirun, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var run = MpiRun.CliThrough(mpirun, 1, [], bench);
            Assert.True(run.ExitCode == 0, run.Error + run.Output);
            string text = run.Output + run.Error;
            if (warns) Assert.Contains("warning: 2 LibTorch threads, but this process may run on 1 core, so they take turns (mpirun binds", text);
            else Assert.DoesNotContain("LibTorch threads, but", text);
        }
    }
}
