using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RlhfSharp.Distributed;
using RlhfSharp.IO;
using RlhfSharp.Models;
using Spectre.Console;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// `mpirun -np N rlhf bench data-parallel`: the all-reduce bandwidth between the ranks, and SFT tokens/s of the
/// world with each rank stepping on a batch of --batch-size examples (weak scaling; run with -np 1 and -np 2 to compare),
/// through the same <see cref="DataParallelOptimizer"/> the trainers use. Without mpirun it measures one process.
/// With several ranks it times steps with the gradient all-reduce after backward and overlapping it, in turn (A/B
/// interleaved, so both see the same machine), and prints the median step, tokens/s and the all-reduce time left
/// exposed after backward for each.
/// </summary>
internal static class DataParallelBench
{
    static readonly Option<int> Sequence = new("--sequence") { Description = "tokens per example", DefaultValueFactory = _ => 128 };
    static readonly Option<int> Batch = new("--batch-size") { Description = "examples per rank per step", DefaultValueFactory = _ => 4 };
    static readonly Option<int> Steps = new("--steps") { Description = "timed steps (after one warm-up step)", DefaultValueFactory = _ => 5 };
    static readonly Option<int> Megabytes = new("--allreduce-mb") { Description = "all-reduced buffer size (float32)", DefaultValueFactory = _ => 100 };
    static readonly Option<int> ZeroStage = new("--zero-stage") { Description = "1: shard the AdamW state (ZeRO-1)", DefaultValueFactory = _ => 0 };
    static readonly Option<string> Overlap = new("--overlap")
    {
        Description = "all-reduce after backward (off), during it (on), or both, step by step in turn (several ranks only)",
        DefaultValueFactory = _ => "both",
    };

    public static Command Build(Option<string?> outOption)
    {
        var command = new Command("data-parallel",
            "Under mpirun: all-reduce GB/s between the ranks and the world's SFT tokens/s on the 23M bench model (run with -np 1 and -np 2 to compare).");
        foreach (var option in new Option[] { Sequence, Batch, Steps, Megabytes, ZeroStage, Overlap, outOption }) command.Options.Add(option);
        command.SetAction(parsed => Run(parsed, outOption));
        return command;
    }

    static int Run(ParseResult parsed, Option<string?> outOption)
    {
        string overlap = parsed.GetValue(Overlap)!;
        if (overlap is not ("on" or "off" or "both")) throw new RlhfException($"--overlap {overlap}: expected on, off or both");
        using var world = World.FromEnvironment();
        CliApp.InitializeTorch(parsed);
        int sequence = parsed.GetValue(Sequence), batch = parsed.GetValue(Batch), steps = parsed.GetValue(Steps);
        var (allReduceSeconds, bytes) = TimeAllReduce(world, parsed.GetValue(Megabytes));
        bool exact = AllReduceIsExact(world, parsed.GetValue(Megabytes));
        bool[] modes = world.Size == 1 || !world.OverlapsGradientReduction ? [false] : overlap switch { "on" => [true], "off" => [false], _ => [false, true] };
        var training = TimeTraining(world, sequence, batch, steps, parsed.GetValue(ZeroStage), modes);

        // Algorithm bandwidth: buffer bytes / time. Bus bandwidth: what each rank's link carries in a ring all-reduce, x 2(N-1)/N.
        double algorithm = bytes / allReduceSeconds / 1e9, bus = algorithm * 2 * (world.Size - 1) / world.Size;
        if (world.IsRoot)
        {
            var table = new Table().Title($"data parallel: {world.Size} rank(s), {get_num_threads()} thread(s) each");
            table.AddColumn("measure").AddColumn("value");
            table.AddRow($"all-reduce {bytes / 1e6:F0} MB", world.Size == 1
                ? "- (one rank: nothing to exchange)"
                : $"{allReduceSeconds * 1e3:F1} ms, {algorithm:F2} GB/s (bus {bus:F2} GB/s) via {world.AllReduceTransport}");
            table.AddRow("all-reduce result", exact ? "exact on every rank" : "WRONG on some rank");
            foreach (var mode in training.Modes)
                table.AddRow($"SFT step, {(world.Size == 1 ? "one process" : mode.Overlap ? "all-reduce during backward" : "all-reduce after backward")} " +
                        $"(world, {world.Size} x {batch} x {sequence} per step)",
                    $"{mode.StepSeconds * 1e3:F0} ms, {mode.TokensPerSecond:F0} tokens/s" + (world.Size == 1 ? "" :
                        $", all-reduce exposed {mode.ExposedSeconds * 1e3:F1} ms" +
                        (mode.Overlap ? $" ({mode.StartedDuringBackward} of {mode.Ranges} ranges started during backward)" : "")));
            if (world.Size > 1 && !world.OverlapsGradientReduction)
                table.AddRow("overlap", $"off ({World.OverlapVariable}=off, or MPI without MPI_THREAD_SERIALIZED)");
            table.AddRow("AdamW state per rank", $"{training.OptimizerBytes.ThisRank / 1e6:F1} MB of {training.OptimizerBytes.Unsharded / 1e6:F1} MB");
            CliApp.Console(parsed).Write(table);
            if (parsed.GetValue(outOption) is { } outDir)
            {
                Directory.CreateDirectory(outDir);
                var best = training.Modes[^1];
                var report = new
                {
                    ranks = world.Size, threads = get_num_threads(), allreduce_transport = world.AllReduceTransport, allreduce_exact = exact,
                    allreduce_bytes = bytes, allreduce_seconds = allReduceSeconds,
                    allreduce_gb_per_s = world.Size > 1 ? algorithm : (double?)null, allreduce_bus_gb_per_s = world.Size > 1 ? bus : (double?)null, sft_tokens_per_s = best.TokensPerSecond, sequence, batch_per_rank = batch,
                    optimizer_state_bytes_per_rank = training.OptimizerBytes.ThisRank, optimizer_state_bytes_unsharded = training.OptimizerBytes.Unsharded,
                    steps = training.Modes.Select(m => new
                    {
                        overlap = m.Overlap, step_seconds = m.StepSeconds, tokens_per_s = m.TokensPerSecond, allreduce_exposed_seconds = m.ExposedSeconds,
                        ranges = m.Ranges, ranges_started_during_backward = m.StartedDuringBackward,
                    }).ToArray(),
                };
                AtomicFile.WriteAllText(Path.Combine(outDir, $"bench-data-parallel-{world.Size}.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            }
        }
        world.Finish();
        return exact ? 0 : 1;
    }

    /// <summary>
    /// Whether a sum of rank-dependent whole numbers (exact in float32) comes out right on every rank, over a buffer of
    /// <paramref name="megabytes"/> MB (its slices per rank are uneven when the rank count does not divide it).
    /// </summary>
    static bool AllReduceIsExact(IDistributed world, int megabytes)
    {
        long count = (long)megabytes * 1_000_000 / sizeof(float) + 1;
        using var pattern = arange(count, ScalarType.Int64).remainder(7).to_type(ScalarType.Float32);
        using var buffer = pattern + world.Rank;
        world.AllReduce(buffer);
        // Sum over ranks r of (pattern + r) = N x pattern + N(N - 1)/2.
        using var expected = pattern * world.Size + world.Size * (world.Size - 1) / 2.0;
        using var same = buffer.eq(expected).all();
        Span<double> exact = [same.item<bool>() ? 1 : 0];
        world.AllReduce(exact, ReduceOp.Min);
        return exact[0] == 1;
    }

    /// <summary>Median seconds of an in-place all-reduce of <paramref name="megabytes"/> MB (5 timed after a warm-up).</summary>
    static (double Seconds, long Bytes) TimeAllReduce(IDistributed world, int megabytes)
    {
        using var buffer = ones((long)megabytes * 1_000_000 / sizeof(float));
        world.AllReduce(buffer);
        var times = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            world.Barrier();
            var watch = Stopwatch.StartNew();
            world.AllReduce(buffer);
            times.Add(watch.Elapsed.TotalSeconds);
        }
        // Every rank uses the slowest rank's time: the collective is done when the last rank is.
        Span<double> median = [times.Order().ElementAt(times.Count / 2)];
        world.AllReduce(median, ReduceOp.Max);
        return (median[0], buffer.NumberOfElements * sizeof(float));
    }

    /// <summary>One way of stepping: median step seconds (the slowest rank's), world tokens/s, median all-reduce seconds after
    /// backward, and the last step's ranges and how many of them started during backward.</summary>
    sealed record StepMode(bool Overlap, double StepSeconds, double TokensPerSecond, double ExposedSeconds, int Ranges, int StartedDuringBackward);

    /// <summary>
    /// Steps the bench model in each of <paramref name="modes"/> (overlap off / on), one step of each in turn after a warm-up
    /// step of each, so both meet the same load on a shared machine.
    /// </summary>
    static (IReadOnlyList<StepMode> Modes, (long ThisRank, long Unsharded) OptimizerBytes) TimeTraining(IDistributed world, int sequence, int batch, int steps,
        int zeroStage, bool[] modes)
    {
        manual_seed(0);
        using var model = new CausalLanguageModel(BenchModels.Small());
        using var step = new TrainingStep(model, batch, sequence, world, zeroStage);
        var seconds = modes.Select(_ => new List<double>()).ToArray();
        var exposed = modes.Select(_ => new List<double>()).ToArray();
        var last = new OverlapReport[modes.Length];
        for (int i = -1; i < steps; i++)
            for (int m = 0; m < modes.Length; m++)
            {
                step.Optimizer.Overlap = modes[m];
                world.Barrier();
                var watch = Stopwatch.StartNew();
                step.Run();
                if (i < 0) continue; // warm-up
                seconds[m].Add(watch.Elapsed.TotalSeconds);
                exposed[m].Add(step.Optimizer.LastExposedAllReduceSeconds);
                last[m] = modes[m] ? step.Optimizer.LastOverlap : default;
            }
        var results = new List<StepMode>();
        for (int m = 0; m < modes.Length; m++)
        {
            // Every rank uses the slowest rank's medians: a step is done when the last rank is.
            Span<double> medians = [Median(seconds[m]), Median(exposed[m])];
            world.AllReduce(medians, ReduceOp.Max);
            results.Add(new StepMode(modes[m], medians[0], world.Size * step.TokensPerStep / medians[0], medians[1], last[m].Ranges, last[m].StartedDuringBackward));
        }
        return (results, step.OptimizerStateBytes);
    }

    static double Median(List<double> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(values.Count / 2);
}
