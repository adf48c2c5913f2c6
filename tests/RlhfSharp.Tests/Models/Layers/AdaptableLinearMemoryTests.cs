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
        // A leftover copy shows every time; a test or the runtime allocating at the same moment does not, so a growth
        // under the bound in any of three tries passes.
        var tries = new List<long>();
        for (int attempt = 0; attempt < 3 && (tries.Count == 0 || tries[^1] >= weights * 1.25); attempt++)
            tries.Add(GrowthWhileBuilding(count));
        // A copy of each initial weight left for the garbage collector doubles it: a 1B model held 3.9 GB twice.
        Assert.True(tries[^1] < weights * 1.25,
            $"resident memory grew {string.Join(", ", tries.Select(t => $"{t / 1e6:F0}"))} MB in {tries.Count} tries for {weights / 1e6:F0} MB of weights");
    }

    static long GrowthWhileBuilding(int count)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = ResidentBytes();
        var layers = Enumerable.Range(0, count).Select(_ => AdaptableLinear.Linear(2048, 8192, hasBias: false)).ToList();
        try
        {
            return ResidentBytes() - before;
        }
        finally
        {
            foreach (var layer in layers) layer.Dispose();
        }
    }
}
