using RlhfSharp.Native;

namespace RlhfSharp.Generation.FusedDecode;

/// <summary>
/// Whether batch-1 decode steps may take <see cref="FusedSingleSequenceStep"/>: RLHF_DECODE=modules turns it off for the
/// process (comparing both in one build), <see cref="UseModules"/> for one thread (tests and benchmarks).
/// </summary>
public static class FusedDecodeSwitch
{
    public const string Variable = "RLHF_DECODE";

    static readonly PathSwitch Switch = new(Variable, "fused", "modules");

    /// <summary>Whether <see cref="Variable"/>'s value turns the fused step off: modules does, fused or nothing does not, anything else is a one-line error.</summary>
    public static bool IsTurnedOff(string? value) => Switch.IsTurnedOff(value);

    public static bool Enabled => Switch.Enabled;

    /// <summary>The module path for batch-1 steps on the calling thread until disposed.</summary>
    public static IDisposable UseModules() => Switch.TurnOffOnThisThread();
}
