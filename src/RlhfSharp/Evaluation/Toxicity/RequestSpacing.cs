using System.Diagnostics;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Client-side rate limit: successive callers are let through at least 1/<c>perSecond</c> apart (a token bucket of
/// capacity one, so no bursts that a per-second quota would refuse). Safe for concurrent callers.
/// </summary>
internal sealed class RequestSpacing(double perSecond)
{
    readonly long interval = (long)(Stopwatch.Frequency / perSecond);
    readonly Lock gate = new();
    long nextSlot = Stopwatch.GetTimestamp();

    public Task WaitAsync(CancellationToken cancellation)
    {
        long now = Stopwatch.GetTimestamp(), slot;
        lock (gate)
        {
            // Reserve the slot under the lock and wait outside it, so waiters queue up in order.
            slot = Math.Max(now, nextSlot);
            nextSlot = slot + interval;
        }
        return slot > now ? Task.Delay(Stopwatch.GetElapsedTime(now, slot), cancellation) : Task.CompletedTask;
    }
}
