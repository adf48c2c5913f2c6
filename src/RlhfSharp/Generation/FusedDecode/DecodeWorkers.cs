namespace RlhfSharp.Generation.FusedDecode;

/// <summary>Work split into parts: part p of <c>parts</c> runs on worker p (part 0 on the calling thread).</summary>
internal interface IPartitionedWork
{
    void Execute(int part, int parts);
}

/// <summary>
/// Persistent threads for the parts of a decode step's products: a call hands every worker its part and waits for all of
/// them. A step makes ~30 such calls; starting tasks for each (Parallel.For) would cost microseconds apiece, so the workers
/// spin on a generation counter for a while after each part and only then sleep on a monitor (a step that follows soon
/// finds them awake; between generations they give the cores back).
/// </summary>
internal sealed class DecodeWorkers : IDisposable
{
    /// <summary>How long a worker spins for the next part before it sleeps: covers the gaps inside a step (norms, the
    /// caller's own part) and the sampling between steps, and no more.</summary>
    static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 2000; // 0.5 ms

    readonly Thread[] _threads;
    readonly object _gate = new();
    IPartitionedWork? _work;
    int _generation;
    int _pending;
    int _sleepers;
    volatile bool _stopping;
    Exception? _failure;

    public DecodeWorkers(int parts)
    {
        Parts = Math.Max(1, parts);
        _threads = new Thread[Parts - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int part = i + 1;
            _threads[i] = new Thread(() => Loop(part)) { IsBackground = true, Name = $"decode worker {part}" };
            _threads[i].Start();
        }
    }

    public int Parts { get; }

    /// <summary>Runs every part of <paramref name="work"/> and returns when all are done.</summary>
    public void Run(IPartitionedWork work)
    {
        if (Parts == 1)
        {
            work.Execute(0, 1);
            return;
        }
        _work = work;
        Volatile.Write(ref _pending, Parts - 1);
        lock (_gate)
        {
            _generation++;
            if (_sleepers > 0) Monitor.PulseAll(_gate);
        }
        work.Execute(0, Parts);
        var spinner = new SpinWait();
        while (Volatile.Read(ref _pending) != 0) spinner.SpinOnce(sleep1Threshold: -1);
        if (_failure is { } failure)
        {
            _failure = null;
            throw new InvalidOperationException("a decode worker failed", failure);
        }
    }

    void Loop(int part)
    {
        int seen = 0;
        while (true)
        {
            long spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _generation) == seen && !_stopping)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() < spinUntil) Thread.SpinWait(16);
                else
                {
                    lock (_gate)
                    {
                        _sleepers++;
                        while (_generation == seen && !_stopping) Monitor.Wait(_gate);
                        _sleepers--;
                    }
                }
            }
            if (_stopping) return;
            seen = Volatile.Read(ref _generation);
            try
            {
                _work!.Execute(part, Parts);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            Interlocked.Decrement(ref _pending);
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
