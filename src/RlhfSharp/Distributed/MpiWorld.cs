using RlhfSharp.Models.Checkpoints;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// The ranks mpirun started (MPI_COMM_WORLD). Buffers go to MPI straight from the tensors' memory, no copies;
/// MPI counts are ints, so buffers over 2^31 - 1 elements go in chunks. <see cref="Finish"/> ends MPI after a
/// run that succeeded; a rank that fails simply exits, and mpirun then stops the others. A float32 sum adds the ranks'
/// values in rank order, as one process accumulating their micro-batches does: through shared memory
/// (<see cref="SharedMemoryAllReduce"/>) when every rank runs on one machine, otherwise through MPI's all-to-all and
/// all-gather (<see cref="OrderedAllReduce"/>); <see cref="AllReduceChoice.Mpi"/> asks for MPI_Allreduce instead.
/// </summary>
internal sealed unsafe class MpiWorld : IDistributed
{
    const int MaxChunk = int.MaxValue;
    readonly MpiLibrary _mpi;
    readonly SharedMemoryAllReduce? _shared;
    readonly OrderedAllReduce? _ordered;
    bool _finished;

    public int Rank { get; }
    public int Size { get; }

    /// <summary>How float32 sums travel: "shared memory", "MPI_Alltoallv + MPI_Allgatherv" or "MPI_Allreduce".</summary>
    public string AllReduceTransport => _shared is not null ? "shared memory" : _ordered is not null ? "MPI_Alltoallv + MPI_Allgatherv" : "MPI_Allreduce";

    /// <summary>
    /// Asked for (RLHF_ALLREDUCE_OVERLAP, on by default) and possible: MPI was started with MPI_THREAD_SERIALIZED or more,
    /// so the communication thread may call it while the main thread runs backward (and calls no MPI meanwhile).
    /// </summary>
    public bool OverlapsGradientReduction { get; }

    /// <summary>Size of the gradient ranges all-reduced one at a time during backward (RLHF_ALLREDUCE_BUCKET_MB).</summary>
    public long GradientRangeBytes { get; init; } = GradientBucket.DefaultRangeBytes;

    internal MpiWorld(MpiLibrary mpi, AllReduceChoice allReduce = AllReduceChoice.Fastest, bool overlapGradientReduction = true, bool peerWatch = true)
    {
        _mpi = mpi;
        int initialized, threadLevel;
        MpiLibrary.Check(_mpi.Initialized(&initialized), "MPI_Initialized");
        if (initialized == 0) MpiLibrary.Check(_mpi.InitThread(null, null, MpiLibrary.ThreadSerialized, &threadLevel), "MPI_Init_thread");
        else MpiLibrary.Check(_mpi.QueryThread(&threadLevel), "MPI_Query_thread");
        OverlapsGradientReduction = overlapGradientReduction && threadLevel >= MpiLibrary.ThreadSerialized;
        int rank, size;
        MpiLibrary.Check(_mpi.CommRank(_mpi.CommWorld, &rank), "MPI_Comm_rank");
        MpiLibrary.Check(_mpi.CommSize(_mpi.CommWorld, &size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
        if (peerWatch) PeerWatch.Start(_mpi, rank, size);
        if (allReduce == AllReduceChoice.Fastest && size > 1) _shared = SharedMemoryAllReduce.TryCreate(_mpi, size);
        // Two ranks' sums have the same bits in any order (a + b = b + a); from three on, only rank order gives one process's.
        if (_shared is null && allReduce != AllReduceChoice.Mpi && (size > 2 || allReduce == AllReduceChoice.Ordered)) _ordered = new OrderedAllReduce(_mpi, rank, size);
    }

    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        if (_shared is not null && op == ReduceOp.Sum && tensor.dtype == ScalarType.Float32)
        {
            _shared.Sum((float*)Buffer(tensor).Data, tensor.NumberOfElements);
            GC.KeepAlive(tensor);
            return;
        }
        if (_ordered is not null && op == ReduceOp.Sum && tensor.dtype == ScalarType.Float32)
        {
            _ordered.Sum((float*)Buffer(tensor).Data, tensor.NumberOfElements);
            GC.KeepAlive(tensor);
            return;
        }
        InChunks(tensor, (data, count, type) =>
            MpiLibrary.Check(_mpi.Allreduce(MpiLibrary.InPlace, data, count, type, Op(op), _mpi.CommWorld), "MPI_Allreduce"));
    }

    public void AllReduce(Span<double> values, ReduceOp op = ReduceOp.Sum)
    {
        fixed (double* data = values)
            MpiLibrary.Check(_mpi.Allreduce(MpiLibrary.InPlace, (IntPtr)data, values.Length, _mpi.Double, Op(op), _mpi.CommWorld), "MPI_Allreduce");
    }

    public void Broadcast(Tensor tensor, int root = 0) => InChunks(tensor, (data, count, type) =>
        MpiLibrary.Check(_mpi.Bcast(data, count, type, root, _mpi.CommWorld), "MPI_Bcast"));

    /// <summary>Runs <paramref name="call"/> (start, element count, MPI type) over the tensor's memory in chunks MPI's int counts can hold.</summary>
    void InChunks(Tensor tensor, Action<IntPtr, int, IntPtr> call)
    {
        var (data, type, elementSize) = Buffer(tensor);
        for (long done = 0, count = tensor.NumberOfElements; done < count; done += MaxChunk)
            call(data + (nint)(done * elementSize), (int)Math.Min(MaxChunk, count - done), type);
        GC.KeepAlive(tensor);
    }

    public void AllGather(Tensor tensor)
    {
        long count = tensor.NumberOfElements;
        if (count % Size != 0) throw new ArgumentException($"{count} elements do not split into {Size} equal slices", nameof(tensor));
        long slice = count / Size;
        var (data, type, elementSize) = Buffer(tensor);
        if (slice <= MaxChunk)
            MpiLibrary.Check(_mpi.Allgather(MpiLibrary.InPlace, 0, type, data, (int)slice, type, _mpi.CommWorld), "MPI_Allgather");
        else // a slice MPI cannot count: each rank broadcasts its own, in chunks
            for (int rank = 0; rank < Size; rank++)
                using (var own = tensor.narrow(0, rank * slice, slice)) Broadcast(own, rank);
        GC.KeepAlive(tensor);
    }

    public void Barrier() => MpiLibrary.Check(_mpi.Barrier(_mpi.CommWorld), "MPI_Barrier");

    /// <summary>Ends MPI on this rank (MPI_Finalize, itself a collective): call once every rank is done.</summary>
    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        PeerWatch.Current?.Finish();
        _shared?.Free();
        _ordered?.Dispose();
        MpiLibrary.Check(_mpi.Finalize(), "MPI_Finalize");
    }

    /// <summary>Does not finalize: a rank leaving with an error must not wait for the others in MPI_Finalize.</summary>
    public void Dispose() { }

    (IntPtr Data, IntPtr Type, long ElementSize) Buffer(Tensor tensor)
    {
        IntPtr type = tensor.dtype switch
        {
            ScalarType.Float32 => _mpi.Float,
            ScalarType.Float64 => _mpi.Double,
            var other => throw new ArgumentException($"collectives take float32 or float64 tensors, not {other}", nameof(tensor)),
        };
        return ((IntPtr)TensorMemory.Address(tensor), type, tensor.ElementSize);
    }

    IntPtr Op(ReduceOp op) => op switch
    {
        ReduceOp.Sum => _mpi.Sum,
        ReduceOp.Max => _mpi.Max,
        ReduceOp.Min => _mpi.Min,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}

/// <summary>How an <see cref="MpiWorld"/> sums float32 buffers (RLHF_ALLREDUCE).</summary>
internal enum AllReduceChoice
{
    /// <summary>Shared memory when every rank runs on one machine, otherwise <see cref="Ordered"/> (from three ranks; two use MPI_Allreduce, whose sum of two has the same bits).</summary>
    Fastest,
    /// <summary>MPI_Alltoallv + rank-order sums + MPI_Allgatherv, even on one machine.</summary>
    Ordered,
    /// <summary>MPI_Allreduce: Open MPI's own algorithms, whose sums over three ranks or more are not in rank order.</summary>
    Mpi,
}
