using System.Diagnostics;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>The CPU's measured fp32 matrix-multiply throughput through LibTorch: the ceiling every stage is held against.</summary>
internal static class MatmulPeak
{
    /// <summary>
    /// Square products and the shapes a model of width <paramref name="hidden"/> runs ([tokens, hidden] x
    /// [hidden, 4 hidden] and back): a short or single-shape probe underestimates the ceiling, which would
    /// overstate utilisation. The PyTorch reference times the same shapes.
    /// </summary>
    public static long[][] Shapes(long hidden, long tokens = 1024) =>
        [[1024, 1024, 1024], [2048, 2048, 2048], [tokens, hidden, 4 * hidden], [tokens, 4 * hidden, hidden]];

    /// <summary>GFLOP/s of [m, k] x [k, n] (best of several timed runs after a warm-up).</summary>
    public static double Measure(long m, long k, long n, int repeats = 5)
    {
        using var scope = NewDisposeScope();
        var a = randn(m, k);
        var b = randn(k, n);
        mm(a, b).Dispose();
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            int inner = Math.Max(1, (int)(2e9 / (2.0 * m * k * n)));
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < inner; i++) mm(a, b).Dispose();
            best = Math.Min(best, watch.Elapsed.TotalSeconds / inner);
        }
        return 2.0 * m * k * n / best / 1e9;
    }

    /// <summary>The peak over the shapes of every model in <paramref name="configs"/>, ours and the reference's, as a table row.</summary>
    public static BenchRow Row(IEnumerable<Models.ModelConfig> configs, long tokens, PytorchReference? reference)
    {
        var shapes = configs.SelectMany(c => Shapes(c.HiddenSize, tokens)).DistinctBy(s => (s[0], s[1], s[2])).ToArray();
        double ours = shapes.Max(s => Measure(s[0], s[1], s[2]));
        double? theirs = reference?.MatmulGflops(shapes);
        return new BenchRow("fp32 matmul peak", "GFLOP/s", ours, theirs, theirs / ours,
            "square and model shapes", new Dictionary<string, object> { ["shapes"] = shapes });
    }
}
