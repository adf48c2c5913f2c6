namespace RlhfSharp.Generation.FusedDecode;

/// <summary>Work split into chunks: chunk c of <c>chunks</c> may run on any thread, each exactly once.</summary>
internal interface IPartitionedWork
{
    void Execute(int chunk, int chunks);
}

/// <summary>
/// Persistent threads for the chunks of a decode step's products. A step makes ~30 such calls; starting tasks for each
/// (Parallel.For) would cost microseconds apiece, so the workers spin on a ticket for a while after each call and only then
/// sleep on a monitor. Chunks are claimed, not assigned (<see cref="Chunks"/> per call, two per thread): on a machine
/// that others share, a worker the scheduler has not run yet leaves its chunks to the caller instead of holding it up,
/// and the caller waits only for chunks already begun.
/// </summary>
internal sealed class DecodeWorkers : IDisposable
{
    /// <summary>How long a worker spins for the next call before it sleeps: covers the gaps inside a step (norms, the
    /// caller's serial parts) and the token choice between steps, and no more.</summary>
    static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 2000; // 0.5 ms

    readonly Thread[] _threads;
    readonly object _gate = new();
    IPartitionedWork? _work;
    // High 32 bits: the call's generation; low 32 bits: the next chunk to claim.
    long _ticket;
    int _done;
    int _sleepers;
    volatile bool _stopping;
    Exception? _failure;

    public DecodeWorkers(int threads)
    {
        Threads = Math.Max(1, threads);
        Chunks = Threads == 1 ? 1 : 2 * Threads;
        _threads = new Thread[Threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"decode worker {i + 1}" };
            _threads[i].Start();
        }
    }

    public int Threads { get; }

    /// <summary>The chunks each call is split into: two per thread. More slices stream each weight in shorter runs (a 23.6M GPT-2
    /// step on 2 threads, fastest of 150: 1.95-2.3 ms with one chunk per thread, 2.05-2.1 with two, 2.5-3.0 with four), fewer
    /// leave nothing for the caller to take over from a worker the scheduler keeps waiting (busy 2-core machine).</summary>
    public int Chunks { get; }

    /// <summary>Runs every chunk of <paramref name="work"/> and returns when all are done; <paramref name="alone"/>: the whole
    /// work as one chunk on the calling thread (a product split into slices streams its weight in shorter runs: one core
    /// read a 512 x 1,536 Conv1D weight at 43 GB/s whole, 35 GB/s in 8 column slices).</summary>
    public void Run(IPartitionedWork work, bool alone = false)
    {
        if (Threads == 1 || alone)
        {
            work.Execute(0, 1);
            return;
        }
        _work = work;
        Volatile.Write(ref _done, 0);
        long generation = (Volatile.Read(ref _ticket) >> 32) + 1;
        lock (_gate)
        {
            Volatile.Write(ref _ticket, generation << 32);
            if (_sleepers > 0) Monitor.PulseAll(_gate);
        }
        ClaimChunks(generation);
        var spinner = new SpinWait();
        while (Volatile.Read(ref _done) != Chunks) spinner.SpinOnce(sleep1Threshold: -1);
        if (_failure is { } failure)
        {
            _failure = null;
            throw new InvalidOperationException("a decode worker failed", failure);
        }
    }

    /// <summary>Runs unclaimed chunks of <paramref name="generation"/>'s call until none is left. A successful claim holds the
    /// call open (its chunk is not done), so the work read after it is that call's.</summary>
    void ClaimChunks(long generation)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            if (ticket >> 32 != generation || (int)ticket >= Chunks) return;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) continue;
            try
            {
                _work!.Execute((int)ticket, Chunks);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            Interlocked.Increment(ref _done);
        }
    }

    void Loop()
    {
        long seen = 0;
        while (true)
        {
            long spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _ticket) >> 32 == seen && !_stopping)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() < spinUntil) Thread.SpinWait(16);
                else
                {
                    lock (_gate)
                    {
                        _sleepers++;
                        while (_ticket >> 32 == seen && !_stopping) Monitor.Wait(_gate);
                        _sleepers--;
                    }
                }
            }
            if (_stopping) return;
            seen = Volatile.Read(ref _ticket) >> 32;
            ClaimChunks(seen);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var thread in _threads) thread.Join();
    }

    /// <summary>The [start, end) of part <paramref name="part"/> of <paramref name="count"/> items split into <paramref name="parts"/>,
    /// each boundary a multiple of <paramref name="align"/> (so vector loops keep whole vectors).</summary>
    public static (int Start, int End) Slice(int count, int part, int parts, int align = 1)
    {
        int units = (count + align - 1) / align;
        int start = (int)((long)units * part / parts) * align, end = (int)((long)units * (part + 1) / parts) * align;
        return (Math.Min(start, count), Math.Min(end, count));
    }
}
