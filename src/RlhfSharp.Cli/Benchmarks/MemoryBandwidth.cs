using System.Diagnostics;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>The memory bandwidth LibTorch reaches on this machine: the ceiling of batch-1 decode (see <see cref="DecodeBound"/>).</summary>
internal static class MemoryBandwidth
{
    /// <summary>
    /// Bytes/s of a streaming read of <paramref name="bytes"/> (a model's weights, so caches hold as little of it as they
    /// hold of the weights): a sum over a float32 tensor of that size, best of several runs after a warm-up, on LibTorch's threads.
    /// </summary>
    public static double Measure(long bytes, int repeats = 7)
    {
        using var scope = NewDisposeScope();
        var data = ones(Math.Max(1, bytes / sizeof(float)));
        data.sum().Dispose();
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            data.sum().Dispose();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return data.numel() * sizeof(float) / best;
    }
}
