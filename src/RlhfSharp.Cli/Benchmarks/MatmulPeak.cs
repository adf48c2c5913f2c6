using System.Diagnostics;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>The CPU's measured fp32 matrix-multiply throughput through LibTorch: the ceiling every stage is held against.</summary>
public static class MatmulPeak
{
    /// <summary>
    /// The best GFLOP/s over square products and the shapes a model of width <paramref name="hidden"/> runs
    /// ([tokens, hidden] x [hidden, 4 hidden] and back): a short or single-shape probe underestimates the
    /// ceiling, which would overstate utilisation.
    /// </summary>
    public static double Peak(long hidden, long tokens = 1024) => new[]
    {
        Measure(1024, 1024, 1024), Measure(2048, 2048, 2048), Measure(tokens, hidden, 4 * hidden), Measure(tokens, 4 * hidden, hidden),
    }.Max();

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
}
