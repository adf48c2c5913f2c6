using System.Text.Json;
using RlhfSharp.IO;

namespace RlhfSharp.Distributed;

/// <summary>
/// distributed.json, written by rank 0 at the end of a data-parallel run: how many ranks, whether their
/// weights agreed (the largest |w - w_rank0|; 0 when identical), the optimizer memory each rank held, and how the last
/// step's all-reduce overlapped backward: of its gradient ranges, how many started during backward (0 and 0: not overlapped),
/// and how the gradient sums travelled (<see cref="IDistributed.AllReduceTransport"/>).
/// </summary>
internal sealed record DistributedReport(int WorldSize, int ZeroStage, double MaxWeightDifferenceAcrossRanks,
    long OptimizerStateBytesPerRank, long OptimizerStateBytesUnsharded, int OverlapRanges = 0, int OverlapRangesStartedDuringBackward = 0,
    string AllReduceTransport = "")
{
    public const string FileName = "distributed.json";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public long OptimizerStateBytesSaved => OptimizerStateBytesUnsharded - OptimizerStateBytesPerRank;

    /// <summary>
    /// Checks the ranks agree (a collective), on rank 0 writes the report and a line to <paramref name="log"/>, and returns
    /// once every rank is here, so the files rank 0 wrote are complete when any rank returns.
    /// </summary>
    public static DistributedReport Finish(IDistributed world, DataParallelOptimizer optimizer, IEnumerable<TorchSharp.torch.Tensor> parameters,
        int zeroStage, string outputDirectory, TextWriter? log)
    {
        double difference = ParameterSync.MaxDifferenceFromRoot(world, parameters);
        var (thisRank, unsharded) = optimizer.StateBytes;
        var overlap = optimizer.LastOverlap;
        var report = new DistributedReport(world.Size, zeroStage, difference, thisRank, unsharded, overlap.Ranges, overlap.StartedDuringBackward,
            world.AllReduceTransport);
        if (world.IsRoot && (world.Size > 1 || zeroStage > 0))
        {
            AtomicFile.WriteAllText(Path.Combine(outputDirectory, FileName), JsonSerializer.Serialize(report, Json));
            log?.WriteLine($"data parallel: {world.Size} ranks (gradient sums through {world.AllReduceTransport}), weights agree to {difference:G3}; optimizer state {thisRank / 1e6:F1} MB per rank" +
                (zeroStage == 1 ? $" (ZeRO-1 saves {report.OptimizerStateBytesSaved / 1e6:F1} MB of {unsharded / 1e6:F1} MB)" : "") +
                (overlap.Ranges > 0 ? $"; all-reduce overlapped backward ({overlap.StartedDuringBackward} of {overlap.Ranges} gradient ranges started during it)" : ""));
        }
        world.Barrier();
        return report;
    }

    public static DistributedReport Load(string outputDirectory) =>
        JsonSerializer.Deserialize<DistributedReport>(File.ReadAllText(Path.Combine(outputDirectory, FileName)), Json)
        ?? throw new RlhfException($"{outputDirectory}: empty {FileName}");
}
