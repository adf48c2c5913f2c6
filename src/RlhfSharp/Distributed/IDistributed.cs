using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// The processes of one data-parallel run (the ranks) and the collectives the trainers use. Every rank must
/// make the same calls in the same order. Tensors are contiguous CPU float32 or float64 and are changed in
/// place. <see cref="SingleProcess"/> is the default: rank 0 of 1, every collective a no-op.
/// </summary>
public interface IDistributed : IDisposable
{
    /// <summary>This process's index, 0 to <see cref="Size"/> - 1.</summary>
    int Rank { get; }
    /// <summary>The number of ranks.</summary>
    int Size { get; }
    /// <summary>How float32 sums travel between the ranks, for benchmarks and logs.</summary>
    string AllReduceTransport => "none (one process)";
    /// <summary>
    /// Whether data-parallel training all-reduces gradient buckets on a communication thread while backward still runs
    /// (see <see cref="DataParallelOptimizer.Backward"/>); never in one process.
    /// </summary>
    bool OverlapsGradientReduction => false;
    /// <summary>Size of the gradient ranges all-reduced one at a time when reduction overlaps backward.</summary>
    long GradientRangeBytes => GradientBucket.DefaultRangeBytes;
    /// <summary>Rank 0: the one that writes checkpoints, logs and plots.</summary>
    bool IsRoot => Rank == 0;

    /// <summary>Combines <paramref name="tensor"/> across ranks; every rank ends with the result.</summary>
    void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum);
    /// <summary>Combines a few numbers (metrics, counts) across ranks, in place.</summary>
    void AllReduce(Span<double> values, ReduceOp op = ReduceOp.Sum);
    /// <summary>Copies <paramref name="root"/>'s tensor into every rank's.</summary>
    void Broadcast(Tensor tensor, int root = 0);
    /// <summary>
    /// <paramref name="tensor"/> (flat) is <see cref="Size"/> equal slices; rank r has filled slice r. Afterwards
    /// every rank holds all slices.
    /// </summary>
    void AllGather(Tensor tensor);
    /// <summary>Waits until every rank has reached this call.</summary>
    void Barrier();
    /// <summary>Ends the world after a run that succeeded on every rank (MPI_Finalize); the last call.</summary>
    void Finish();
}
