using System.Diagnostics;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Client-side rate limit: callers pass one at a time, each at least 1/<c>perSecond</c> after the previous one passed
/// (a token bucket of capacity one, so no bursts that a per-second quota would refuse). Safe for concurrent callers.
/// </summary>
internal sealed class RequestSpacing(double perSecond)
{
    readonly long _interval = (long)(Stopwatch.Frequency / perSecond);
    readonly SemaphoreSlim _gate = new(1, 1);
    long _nextSlot = Stopwatch.GetTimestamp();

    public async Task WaitAsync(CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation);
        try
        {
            // Timers may fire a little early, so wait again until the slot has truly come; the next slot counts from
            // when this caller actually passed, so a late wake-up cannot shorten the following gap.
            for (long now = Stopwatch.GetTimestamp(); now < _nextSlot; now = Stopwatch.GetTimestamp())
                await Task.Delay(Stopwatch.GetElapsedTime(now, _nextSlot) + TimeSpan.FromMilliseconds(1), cancellation);
            _nextSlot = Stopwatch.GetTimestamp() + _interval;
        }
        finally
        {
            _gate.Release();
        }
    }
}
