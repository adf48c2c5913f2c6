namespace RlhfSharp.Tests.Annotation;

/// <summary>A clock that moves only when told to (lease expiry and the undo window without sleeping).</summary>
internal sealed class ManualClock : TimeProvider
{
    DateTimeOffset _now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}
