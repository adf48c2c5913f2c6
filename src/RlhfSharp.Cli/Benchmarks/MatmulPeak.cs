using System.Diagnostics;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>The CPU's measured fp32 matrix-multiply throughput through LibTorch: the ceiling every stage is held against.</summary>
public static class MatmulPeak
{
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
