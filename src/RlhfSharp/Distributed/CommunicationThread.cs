using System.Collections.Concurrent;
using System.Diagnostics;

namespace RlhfSharp.Distributed;

/// <summary>
/// One thread that runs posted work (gradient all-reduces) in the order posted, while the posting thread goes on with
/// backward. <see cref="WaitAll"/> returns once everything posted has run, rethrowing the first failure.
/// </summary>
internal sealed class CommunicationThread : IDisposable
{
    readonly BlockingCollection<Action> _work = [];
    readonly Thread _thread;
    readonly object _gate = new();
    int _pending;
    Exception? _failure;
    long _busyTicks;

    public CommunicationThread()
    {
        // Background: a rank failing elsewhere must not be kept alive by a thread blocked in a collective.
        _thread = new Thread(Run) { IsBackground = true, Name = "gradient all-reduce" };
        _thread.Start();
    }

    /// <summary>Seconds this thread has spent running work since it started.</summary>
    public double BusySeconds => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _busyTicks)).TotalSeconds;

    public void Post(Action work)
    {
        lock (_gate) _pending++;
        _work.Add(work);
    }

    public void WaitAll()
    {
        lock (_gate)
        {
            while (_pending > 0) Monitor.Wait(_gate);
            if (_failure is { } failure)
            {
                _failure = null;
                throw new RlhfException($"gradient all-reduce failed on the communication thread: {failure.Message}", failure);
            }
        }
    }

    void Run()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            long start = Stopwatch.GetTimestamp();
            try { work(); }
            catch (Exception e) { lock (_gate) _failure ??= e; }
            Interlocked.Add(ref _busyTicks, Stopwatch.GetTimestamp() - start);
            lock (_gate)
            {
                _pending--;
                Monitor.PulseAll(_gate);
            }
        }
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        bool idle;
        lock (_gate) idle = _pending == 0;
        if (idle) _thread.Join(); // else a collective another rank will never join: leave the background thread to the exit
        else return;
        _work.Dispose();
    }
}
