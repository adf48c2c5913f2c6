using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>One process, no MPI: rank 0 of 1, and every collective leaves its data as it is.</summary>
public sealed class SingleProcess : IDistributed
{
    public static SingleProcess Instance { get; } = new();

    public int Rank => 0;
    public int Size => 1;
    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) { }
    public void AllReduce(Span<double> values, ReduceOp op = ReduceOp.Sum) { }
    public void Broadcast(Tensor tensor, int root = 0) { }
    public void AllGather(Tensor tensor) { }
    public void Barrier() { }
    public void Finish() { }
    public void Dispose() { }
}
