using System.Runtime.InteropServices;

namespace RlhfSharp.Distributed;

/// <summary>
/// Sums float32 buffers over ranks that need not share a machine, with the bits of one process accumulating the same
/// micro-batches: each rank sends slice s of its buffer to rank s (MPI_Alltoallv), sums the slices it received in rank
/// order (<see cref="RankOrderSum"/>), and every rank gathers the summed slices (MPI_Allgatherv). Each rank sends and
/// receives 2(W-1)/W of the buffer, as in a ring all-reduce. MPI_Allreduce's own algorithms add in an order that depends
/// on the rank count and the message size, so with three ranks or more its sums differ from one process's in the last
/// bits (and the weights, after a few AdamW steps, by about 1e-4).
/// </summary>
internal sealed unsafe class OrderedAllReduce(MpiLibrary mpi, int rank, int size) : IDisposable
{
    /// <summary>Elements summed per round: the scratch for the slices received is one round's worth (32 MiB).</summary>
    internal const int RoundElements = 1 << 23;

    readonly int[] _sendCounts = new int[size], _sendStarts = new int[size], _receiveCounts = new int[size], _receiveStarts = new int[size];
    readonly float*[] _received = new float*[size];
    float* _scratch;
    long _scratchElements;

    /// <summary>Replaces <paramref name="count"/> floats at <paramref name="data"/> by their sum over the ranks. Collective, with the same count on every rank.</summary>
    public void Sum(float* data, long count)
    {
        for (long done = 0; done < count; done += RoundElements)
            SumRound(data + done, (int)Math.Min(RoundElements, count - done));
    }

    void SumRound(float* data, int count)
    {
        var (ownStart, ownLength) = RankOrderSum.Slice(rank, size, count);
        Reserve(ownLength * size);
        for (int peer = 0; peer < size; peer++)
        {
            var (start, length) = RankOrderSum.Slice(peer, size, count);
            (_sendStarts[peer], _sendCounts[peer]) = ((int)start, (int)length);
            (_receiveStarts[peer], _receiveCounts[peer]) = ((int)(peer * ownLength), (int)ownLength);
            _received[peer] = _scratch + peer * ownLength;
        }
        fixed (int* sendCounts = _sendCounts, sendStarts = _sendStarts, receiveCounts = _receiveCounts, receiveStarts = _receiveStarts)
        {
            MpiLibrary.Check(mpi.Alltoallv((IntPtr)data, sendCounts, sendStarts, mpi.Float, (IntPtr)_scratch, receiveCounts, receiveStarts, mpi.Float, mpi.CommWorld),
                "MPI_Alltoallv");
            RankOrderSum.Sum(_received, 0, ownLength, data + ownStart);
            // Every rank's summed slice, where the send above took it from: the counts and starts of the slices.
            MpiLibrary.Check(mpi.Allgatherv(MpiLibrary.InPlace, 0, mpi.Float, (IntPtr)data, sendCounts, sendStarts, mpi.Float, mpi.CommWorld),
                "MPI_Allgatherv");
        }
    }

    void Reserve(long elements)
    {
        if (elements <= _scratchElements) return;
        Dispose();
        _scratch = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, elements) * sizeof(float)), 64);
        _scratchElements = elements;
    }

    public void Dispose()
    {
        if (_scratch is not null) NativeMemory.AlignedFree(_scratch);
        _scratch = null;
        _scratchElements = 0;
    }
}
