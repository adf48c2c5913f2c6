using System.Diagnostics;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Distributed;

/// <summary>Runs the CLI on several ranks with Open MPI's mpirun, as a user would (one thread per rank: the machine has 2 cores).</summary>
public static class MpiRun
{
    /// <summary>mpirun on the PATH, or null.</summary>
    public static string? Mpirun { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Select(dir => Path.Combine(dir, "mpirun")).FirstOrDefault(File.Exists);

    public static CliResult Cli(int ranks, params string[] args) => CliWith(ranks, [], args);

    /// <summary>The CLI on <paramref name="ranks"/> ranks with extra variables (NAME=value) in every rank's environment.</summary>
    public static CliResult CliWith(int ranks, IEnumerable<string> variables, params string[] args) =>
        CliThrough(Mpirun ?? throw new InvalidOperationException("mpirun is not installed"), ranks, variables, args);

    /// <summary>The CLI on <paramref name="ranks"/> ranks started by <paramref name="mpirun"/> (mpirun itself, or a script that runs it with more options).</summary>
    public static CliResult CliThrough(string mpirun, int ranks, IEnumerable<string> variables, params string[] args) =>
        Start(mpirun,
            ["--allow-run-as-root", "--oversubscribe", "-np", $"{ranks}", "-x", "OMP_NUM_THREADS=1", "-x", "OMP_WAIT_POLICY=PASSIVE",
             .. variables.SelectMany(v => (string[])["-x", v]), "dotnet", Path.Combine(AppContext.BaseDirectory, "rlhf.dll"), .. args]);

    /// <summary>
    /// The CLI in a process of its own without MPI: the reference run. (In the test host, tests running beside it
    /// could draw from the global random generator between a micro-batch's reseeding and its dropout masks.)
    /// </summary>
    public static CliResult Single(params string[] args) => Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "rlhf.dll"), .. args]);

    /// <summary>
    /// How long one run may take before it counts as hung. Quiet, the tests' runs (3 steps of a tiny model, or 2 PPO
    /// iterations) take a few seconds: 1.2 s of CPU alone, 2.3 s (sft) to 3.6 s (ppo) over both ranks under mpirun;
    /// 5 minutes is far more than 4 times that, room for a machine shared with other builds and test runs.
    /// </summary>
    static readonly TimeSpan Budget = TimeSpan.FromMinutes(5);

    static CliResult Start(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot,
        };
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Budget)) { process.Kill(true); throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within {Budget}"); }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The largest |a - b| over the tensors of two saved models or two LoRA adapter folders (which must hold the same names).</summary>
    public static double MaxWeightDifference(string modelA, string modelB)
    {
        var a = SavedTensors(modelA);
        var b = SavedTensors(modelB);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        double max = 0;
        foreach (var (name, load) in a)
        {
            using var x = load();
            using var y = b[name]();
            using var diff = (x - y).abs().max();
            max = Math.Max(max, diff.item<float>());
        }
        return max;
    }

    /// <summary>The tensors a run folder holds, by name: its adapter_model.safetensors when it is a LoRA adapter folder.</summary>
    public static IReadOnlyDictionary<string, Func<TorchSharp.torch.Tensor>> SavedTensors(string folder)
    {
        if (PeftAdapter.IsAdapterFolder(folder))
        {
            string path = Path.Combine(folder, PeftAdapter.WeightsFile);
            return SafetensorsFile.ReadHeader(path).Tensors.ToDictionary(t => t.Key, t => (Func<TorchSharp.torch.Tensor>)(() => SafetensorsFile.LoadTensor(path, t.Value)));
        }
        var checkpoint = ModelCheckpoint.Open(folder);
        return checkpoint.Tensors.Keys.ToDictionary(name => name, name => (Func<TorchSharp.torch.Tensor>)(() => checkpoint.Load(name)));
    }
}
