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
/// </summary>
internal static class DataParallelBench
{
    static readonly Option<int> Sequence = new("--sequence") { Description = "tokens per example", DefaultValueFactory = _ => 128 };
    static readonly Option<int> Batch = new("--batch-size") { Description = "examples per rank per step", DefaultValueFactory = _ => 4 };
    static readonly Option<int> Steps = new("--steps") { Description = "timed steps (after one warm-up step)", DefaultValueFactory = _ => 5 };
    static readonly Option<int> Megabytes = new("--allreduce-mb") { Description = "all-reduced buffer size (float32)", DefaultValueFactory = _ => 100 };
    static readonly Option<int> ZeroStage = new("--zero-stage") { Description = "1: shard the AdamW state (ZeRO-1)", DefaultValueFactory = _ => 0 };

    public static Command Build(Option<string?> outOption)
    {
        var command = new Command("data-parallel",
            "Under mpirun: all-reduce GB/s between the ranks and the world's SFT tokens/s on the 23M bench model (run with -np 1 and -np 2 to compare).");
        foreach (var option in new Option[] { Sequence, Batch, Steps, Megabytes, ZeroStage, outOption }) command.Options.Add(option);
        command.SetAction(parsed => Run(parsed, outOption));
        return command;
    }

    static int Run(ParseResult parsed, Option<string?> outOption)
    {
        using var world = World.FromEnvironment();
        CliApp.InitializeTorch(parsed);
        int sequence = parsed.GetValue(Sequence), batch = parsed.GetValue(Batch), steps = parsed.GetValue(Steps);
        var (allReduceSeconds, bytes) = TimeAllReduce(world, parsed.GetValue(Megabytes));
        bool exact = AllReduceIsExact(world, parsed.GetValue(Megabytes));
        var (tokensPerSecond, optimizerBytes) = TimeTraining(world, sequence, batch, steps, parsed.GetValue(ZeroStage));

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
            table.AddRow($"SFT tokens/s (world, {world.Size} x {batch} x {sequence} per step)", $"{tokensPerSecond:F0}");
            table.AddRow("AdamW state per rank", $"{optimizerBytes.ThisRank / 1e6:F1} MB of {optimizerBytes.Unsharded / 1e6:F1} MB");
            CliApp.Console(parsed).Write(table);
            if (parsed.GetValue(outOption) is { } outDir)
            {
                Directory.CreateDirectory(outDir);
                var report = new
                {
                    ranks = world.Size, threads = get_num_threads(), allreduce_transport = world.AllReduceTransport, allreduce_exact = exact,
                    allreduce_bytes = bytes, allreduce_seconds = allReduceSeconds,
                    allreduce_gb_per_s = world.Size > 1 ? algorithm : (double?)null, allreduce_bus_gb_per_s = world.Size > 1 ? bus : (double?)null, sft_tokens_per_s = tokensPerSecond, sequence, batch_per_rank = batch,
                    optimizer_state_bytes_per_rank = optimizerBytes.ThisRank, optimizer_state_bytes_unsharded = optimizerBytes.Unsharded,
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

    static (double TokensPerSecond, (long ThisRank, long Unsharded) OptimizerBytes) TimeTraining(IDistributed world, int sequence, int batch, int steps, int zeroStage)
    {
        manual_seed(0);
        using var model = new CausalLanguageModel(BenchModels.Small());
        using var step = new TrainingStep(model, batch, sequence, world, zeroStage);
        step.Run(); // warm-up
        world.Barrier();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step.Run();
        world.Barrier();
        return (world.Size * step.TokensPerStep * steps / watch.Elapsed.TotalSeconds, step.OptimizerStateBytes);
    }
}
