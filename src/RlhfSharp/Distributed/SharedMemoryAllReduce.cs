namespace RlhfSharp.Distributed;

/// <summary>
/// Sums float32 buffers over the ranks of one machine through an MPI-3 shared-memory window (MPI_Win_allocate_shared):
/// each rank copies its buffer into its own segment, sums its slice of every rank's segment, reading the other ranks'
/// memory directly, then copies the other slices from the ranks that summed them. Open MPI's own transport moves a big
/// message between local ranks with one kernel copy (CMA, process_vm_readv) where the kernel allows it; where it does not
/// (containers commonly forbid it) it copies 32 KiB fragments through a queue, and 100 MB took 250-500 ms here
/// (0.2-0.4 GB/s, the figure measured on another machine whatever the BTL). Reading shared memory needs neither.
/// Every slice is summed once, in rank order, so every rank ends with the same bits.
/// </summary>
internal sealed unsafe class SharedMemoryAllReduce
{
    readonly MpiLibrary _mpi;
    readonly int _rank, _size;
    IntPtr _node;
    IntPtr _window;
    float*[] _segments = [];
    long _capacity;

    SharedMemoryAllReduce(MpiLibrary mpi, IntPtr node, int rank, int size) => (_mpi, _node, _rank, _size) = (mpi, node, rank, size);

    /// <summary>
    /// The shared-memory path for a world whose ranks all run on this machine, or null when they span several (then
    /// every rank gets null, as no machine holds all of them). Collective: every rank calls it.
    /// </summary>
    public static SharedMemoryAllReduce? TryCreate(MpiLibrary mpi, int worldSize)
    {
        IntPtr node;
        MpiLibrary.Check(mpi.CommSplitType(mpi.CommWorld, MpiLibrary.CommTypeShared, 0, mpi.InfoNull, &node), "MPI_Comm_split_type");
        int rank, size;
        MpiLibrary.Check(mpi.CommRank(node, &rank), "MPI_Comm_rank");
        MpiLibrary.Check(mpi.CommSize(node, &size), "MPI_Comm_size");
        if (size == worldSize) return new SharedMemoryAllReduce(mpi, node, rank, size);
        MpiLibrary.Check(mpi.CommFree(&node), "MPI_Comm_free");
        return null;
    }

    /// <summary>Replaces <paramref name="count"/> floats at <paramref name="data"/> by their sum over the ranks. Collective, with the same count on every rank.</summary>
    public void Sum(float* data, long count)
    {
        if (count == 0) return;
        Reserve(count);
        var (start, length) = RankOrderSum.Slice(_rank, _size, count);
        Buffer.MemoryCopy(data, _segments[_rank], count * sizeof(float), count * sizeof(float));
        Synchronize();
        // This rank's slice, summed in rank order into its own segment: no other rank reads it until the next synchronisation.
        RankOrderSum.Sum(_segments, start, length, _segments[_rank] + start);
        Synchronize();
        for (int owner = 0; owner < _size; owner++)
        {
            var (from, n) = RankOrderSum.Slice(owner, _size, count);
            Buffer.MemoryCopy(_segments[owner] + from, data + from, n * sizeof(float), n * sizeof(float));
        }
        // No rank overwrites its segment (the next call) before every rank has copied from it.
        Synchronize();
    }

    /// <summary>Makes every rank's stores to the window visible to the others, at a point every rank reaches.</summary>
    void Synchronize()
    {
        MpiLibrary.Check(_mpi.WinSync(_window), "MPI_Win_sync");
        MpiLibrary.Check(_mpi.Barrier(_node), "MPI_Barrier");
        MpiLibrary.Check(_mpi.WinSync(_window), "MPI_Win_sync");
    }

    /// <summary>Segments of at least <paramref name="count"/> floats on every rank (a new window when the old one is too small). Collective.</summary>
    void Reserve(long count)
    {
        if (count <= _capacity) return;
        FreeWindow();
        float* own;
        IntPtr window;
        MpiLibrary.Check(_mpi.WinAllocateShared((nint)(count * sizeof(float)), sizeof(float), _mpi.InfoNull, _node, &own, &window), "MPI_Win_allocate_shared");
        _window = window;
        MpiLibrary.Check(_mpi.WinLockAll(0, _window), "MPI_Win_lock_all");
        _segments = new float*[_size];
        for (int rank = 0; rank < _size; rank++)
        {
            nint bytes;
            int unit;
            float* segment;
            MpiLibrary.Check(_mpi.WinSharedQuery(_window, rank, &bytes, &unit, &segment), "MPI_Win_shared_query");
            _segments[rank] = segment;
        }
        _capacity = count;
    }

    void FreeWindow()
    {
        if (_window == IntPtr.Zero) return;
        MpiLibrary.Check(_mpi.WinUnlockAll(_window), "MPI_Win_unlock_all");
        IntPtr window = _window;
        MpiLibrary.Check(_mpi.WinFree(&window), "MPI_Win_free");
        (_window, _segments, _capacity) = (IntPtr.Zero, [], 0);
    }

    /// <summary>Frees the window and the machine's communicator: collective, before MPI_Finalize on a run that succeeded.</summary>
    public void Free()
    {
        FreeWindow();
        if (_node == IntPtr.Zero) return;
        IntPtr node = _node;
        MpiLibrary.Check(_mpi.CommFree(&node), "MPI_Comm_free");
        _node = IntPtr.Zero;
    }
}
