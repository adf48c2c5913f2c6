using RlhfSharp.Models.Layers;

namespace RlhfSharp.Tests.Models.Layers;

/// <summary>Tests that read the process's resident memory, which tests running beside them would move; these run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResidentMemoryCollection
{
    public const string Name = "resident memory";
}

[Collection(ResidentMemoryCollection.Name)]
public class AdaptableLinearMemoryTests
{
    /// <summary>VmRSS from /proc/self/status: the memory resident now.</summary>
    static long ResidentBytes() => RlhfSharp.Cli.Benchmarks.PeakMemory.StatusBytes(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:")));

    [Fact]
    public void Building_linear_layers_leaves_one_copy_of_their_weights_resident()
    {
        if (!File.Exists("/proc/self/status")) return; // Linux only
        // 64 MB weights: above glibc's largest mmap threshold, so memory that is freed leaves the process at once.
        const int count = 8;
        long weights = count * 2048L * 8192 * sizeof(float);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = ResidentBytes();
        var layers = Enumerable.Range(0, count).Select(_ => AdaptableLinear.Linear(2048, 8192, hasBias: false)).ToList();
        try
        {
            long grown = ResidentBytes() - before;
            // A copy of each initial weight left for the garbage collector doubles it: a 1B model held 3.9 GB twice.
            Assert.True(grown < weights * 1.25, $"resident memory grew {grown / 1e6:F0} MB for {weights / 1e6:F0} MB of weights");
        }
        finally
        {
            foreach (var layer in layers) layer.Dispose();
        }
    }
}
