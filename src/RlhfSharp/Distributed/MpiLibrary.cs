using System.Runtime.InteropServices;

namespace RlhfSharp.Distributed;

/// <summary>
/// A thin binding to Open MPI's C library (libmpi.so.40), resolved at run time so that nothing needs MPI
/// unless a run asks for it. Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM ...) are the addresses of
/// exported objects (ompi_mpi_comm_world ...), not the integers of other MPIs, and MPI_IN_PLACE is (void*)1.
/// The library is opened RTLD_GLOBAL, as mpi4py does, so Open MPI's plugins can see its symbols.
/// </summary>
sealed unsafe partial class MpiLibrary
{
    public const string DefaultName = "libmpi.so.40";
    public static readonly IntPtr InPlace = 1;

    public readonly IntPtr CommWorld, Byte, Float, Double, Sum, Max, Min, InfoNull;

    /// <summary>MPI_COMM_TYPE_SHARED in Open MPI's mpi.h (the first of its split types): ranks that can share memory.</summary>
    public const int CommTypeShared = 0;
    /// <summary>MPI_THREAD_SERIALIZED in Open MPI's mpi.h: any thread may call MPI, one at a time.</summary>
    public const int ThreadSerialized = 2;
    public readonly delegate* unmanaged<int*, IntPtr*, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int*, int> QueryThread;
    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int> Finalize;
    public readonly delegate* unmanaged<IntPtr, int, int> Abort;
    public readonly delegate* unmanaged<IntPtr, int*, int> CommRank, CommSize;
    // The collectives go through the counting wrappers below (same signatures), so the peer watch knows this rank's progress.
    public readonly delegate*<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int> Allreduce = &CountedAllreduce;
    public readonly delegate*<IntPtr, int, IntPtr, int, IntPtr, int> Bcast = &CountedBcast;
    public readonly delegate*<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, int> Allgather = &CountedAllgather;
    public readonly delegate*<IntPtr, int, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int> Allgatherv = &CountedAllgatherv;
    public readonly delegate*<IntPtr, int*, int*, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int> Alltoallv = &CountedAlltoallv;
    public readonly delegate*<IntPtr, int> Barrier = &CountedBarrier;
    static delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int> MpiAllreduce;
    static delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int> MpiBcast;
    static delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, int> MpiAllgather;
    static delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int> MpiAllgatherv;
    static delegate* unmanaged<IntPtr, int*, int*, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int> MpiAlltoallv;
    static delegate* unmanaged<IntPtr, int> MpiBarrier;
    public readonly delegate* unmanaged<IntPtr, int, int, IntPtr, IntPtr*, int> CommSplitType;
    public readonly delegate* unmanaged<IntPtr*, int> CommFree;
    public readonly delegate* unmanaged<nint, int, IntPtr, IntPtr, void*, IntPtr*, int> WinAllocateShared;
    public readonly delegate* unmanaged<IntPtr, int, nint*, int*, void*, int> WinSharedQuery;
    public readonly delegate* unmanaged<int, IntPtr, int> WinLockAll;
    public readonly delegate* unmanaged<IntPtr, int> WinUnlockAll, WinSync;
    public readonly delegate* unmanaged<IntPtr*, int> WinFree;

    readonly IntPtr _handle;

    MpiLibrary(IntPtr handle)
    {
        _handle = handle;
        CommWorld = Export("ompi_mpi_comm_world");
        Byte = Export("ompi_mpi_byte");
        Float = Export("ompi_mpi_float");
        Double = Export("ompi_mpi_double");
        Sum = Export("ompi_mpi_op_sum");
        Max = Export("ompi_mpi_op_max");
        Min = Export("ompi_mpi_op_min");
        InfoNull = Export("ompi_mpi_info_null");
        InitThread = (delegate* unmanaged<int*, IntPtr*, int, int*, int>)Export("MPI_Init_thread");
        QueryThread = (delegate* unmanaged<int*, int>)Export("MPI_Query_thread");
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        Abort = (delegate* unmanaged<IntPtr, int, int>)Export("MPI_Abort");
        CommRank = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_size");
        MpiAllreduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int>)Export("MPI_Allreduce");
        MpiBcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int>)Export("MPI_Bcast");
        MpiAllgather = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, int>)Export("MPI_Allgather");
        MpiAllgatherv = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int>)Export("MPI_Allgatherv");
        MpiAlltoallv = (delegate* unmanaged<IntPtr, int*, int*, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int>)Export("MPI_Alltoallv");
        MpiBarrier = (delegate* unmanaged<IntPtr, int>)Export("MPI_Barrier");
        CommSplitType = (delegate* unmanaged<IntPtr, int, int, IntPtr, IntPtr*, int>)Export("MPI_Comm_split_type");
        CommFree = (delegate* unmanaged<IntPtr*, int>)Export("MPI_Comm_free");
        WinAllocateShared = (delegate* unmanaged<nint, int, IntPtr, IntPtr, void*, IntPtr*, int>)Export("MPI_Win_allocate_shared");
        WinSharedQuery = (delegate* unmanaged<IntPtr, int, nint*, int*, void*, int>)Export("MPI_Win_shared_query");
        WinLockAll = (delegate* unmanaged<int, IntPtr, int>)Export("MPI_Win_lock_all");
        WinUnlockAll = (delegate* unmanaged<IntPtr, int>)Export("MPI_Win_unlock_all");
        WinSync = (delegate* unmanaged<IntPtr, int>)Export("MPI_Win_sync");
        WinFree = (delegate* unmanaged<IntPtr*, int>)Export("MPI_Win_free");
    }

    /// <summary>Opens the library at <paramref name="path"/> (a file or a name the loader searches).</summary>
    /// <exception cref="RlhfException">One line saying what is missing and how to install it.</exception>
    public static MpiLibrary Open(string path)
    {
        const int RtldNow = 0x2, RtldGlobal = 0x100;
        IntPtr handle = dlopen(path, RtldNow | RtldGlobal);
        if (handle == IntPtr.Zero)
        {
            string why = Marshal.PtrToStringUTF8(dlerror()) ?? "not found";
            throw new RlhfException($"MPI was requested (running under mpirun) but {path} could not be loaded ({why}); " +
                "install Open MPI (apt-get install openmpi-bin) or point RLHF_MPI_LIBRARY at libmpi.so");
        }
        return new MpiLibrary(handle);
    }

    IntPtr Export(string name) => NativeLibrary.TryGetExport(_handle, name, out IntPtr address)
        ? address
        : throw new RlhfException($"the MPI library has no {name}: RlhfSharp's binding needs Open MPI (libmpi.so.40)");

    /// <summary>Throws unless an MPI call returned MPI_SUCCESS (0). Open MPI's default handler aborts first, so this is a backstop.</summary>
    public static void Check(int code, string call)
    {
        if (code != 0) throw new RlhfException($"{call} failed with MPI error {code}");
    }

    static int CountedAllreduce(IntPtr send, IntPtr receive, int count, IntPtr type, IntPtr op, IntPtr comm)
    {
        CollectiveClock.Enter();
        try { return MpiAllreduce(send, receive, count, type, op, comm); }
        finally { CollectiveClock.Leave(); }
    }

    static int CountedBcast(IntPtr data, int count, IntPtr type, int root, IntPtr comm)
    {
        CollectiveClock.Enter();
        try { return MpiBcast(data, count, type, root, comm); }
        finally { CollectiveClock.Leave(); }
    }

    static int CountedAllgather(IntPtr send, int sendCount, IntPtr sendType, IntPtr receive, int receiveCount, IntPtr receiveType, IntPtr comm)
    {
        CollectiveClock.Enter();
        try { return MpiAllgather(send, sendCount, sendType, receive, receiveCount, receiveType, comm); }
        finally { CollectiveClock.Leave(); }
    }

    static int CountedAllgatherv(IntPtr send, int sendCount, IntPtr sendType, IntPtr receive, int* receiveCounts, int* starts, IntPtr receiveType, IntPtr comm)
    {
        CollectiveClock.Enter();
        try { return MpiAllgatherv(send, sendCount, sendType, receive, receiveCounts, starts, receiveType, comm); }
        finally { CollectiveClock.Leave(); }
    }

    static int CountedAlltoallv(IntPtr send, int* sendCounts, int* sendStarts, IntPtr sendType, IntPtr receive, int* receiveCounts, int* receiveStarts, IntPtr receiveType, IntPtr comm)
    {
        CollectiveClock.Enter();
        try { return MpiAlltoallv(send, sendCounts, sendStarts, sendType, receive, receiveCounts, receiveStarts, receiveType, comm); }
        finally { CollectiveClock.Leave(); }
    }

    static int CountedBarrier(IntPtr comm)
    {
        CollectiveClock.Enter();
        try { return MpiBarrier(comm); }
        finally { CollectiveClock.Leave(); }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr dlopen(string file, int mode);

    [LibraryImport("libc")]
    private static partial IntPtr dlerror();
}
