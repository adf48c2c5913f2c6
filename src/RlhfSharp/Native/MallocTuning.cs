using System.Runtime.InteropServices;

namespace RlhfSharp.Native;

/// <summary>What the process did to C's malloc at start-up, and why (see <see cref="MallocTuning"/>).</summary>
/// <param name="Applied">whether glibc's thresholds were raised</param>
/// <param name="Reason">one line: what was set, or why nothing was</param>
public sealed record MallocSetup(bool Applied, string Reason);

/// <summary>
/// Keeps big tensor blocks in malloc's heap between steps. glibc serves every block over its mmap threshold (128 KiB,
/// rising to at most 32 MiB) with a fresh mmap and unmaps it on free, so a [batch, length, vocab] logits tensor of a
/// new shape each step is page-faulted in from zero every time: an SFT run with GPT-2's 50,257-token vocabulary (full
/// logits) spent 12.4-12.8 of 13.5-13.8 s in the kernel, 1.2 of 7 s with the thresholds raised. Raising the mmap
/// threshold to 1 GiB puts such blocks in the heap, and raising the trim threshold keeps freed heap memory for the next
/// step instead of handing it back. The price is resident memory that stays at its peak (2.5 instead of 1.6 GB there). Left alone when the user
/// chose an allocator or malloc settings (LD_PRELOAD, MALLOC_*_ or glibc.malloc tunables) or set RLHF_MALLOC=system.
/// </summary>
public static partial class MallocTuning
{
    /// <summary>Blocks below this come from the heap (1 GiB: logits of batch 8 x 512 tokens x 50,257 are 823 MB).</summary>
    public const int MmapThreshold = 1 << 30;

    /// <summary>Free memory at the heap's top is kept up to this much (mallopt takes an int: the largest is just under 2 GiB).</summary>
    public const int TrimThreshold = int.MaxValue;

    /// <summary>The environment variable that turns the tuning off: RLHF_MALLOC=system.</summary>
    public const string OptOutVariable = "RLHF_MALLOC";

    const int TrimThresholdParameter = -1; // M_TRIM_THRESHOLD in malloc.h
    const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD

    /// <summary>Why the tuning must not run in this environment, or null when it may.</summary>
    public static string? ReasonToLeaveAlone(Func<string, string?> environment)
    {
        if (string.Equals(environment(OptOutVariable), "system", StringComparison.OrdinalIgnoreCase))
            return $"{OptOutVariable}=system: glibc's defaults";
        if (environment("LD_PRELOAD") is { } preload && preload.Contains("malloc", StringComparison.OrdinalIgnoreCase))
            return $"an allocator is preloaded ({preload})";
        foreach (string name in (string[])["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"])
        {
            if (!string.IsNullOrEmpty(environment(name))) return $"{name} is set";
        }
        if (environment("GLIBC_TUNABLES") is { } tunables && tunables.Contains("glibc.malloc.", StringComparison.Ordinal))
            return "GLIBC_TUNABLES sets malloc";
        return null;
    }

    /// <summary>Raises glibc's mmap and trim thresholds unless <see cref="ReasonToLeaveAlone"/> says not to; elsewhere does nothing.</summary>
    public static MallocSetup Apply(Func<string, string?> environment)
    {
        if (!OperatingSystem.IsLinux()) return new MallocSetup(false, "not Linux: the system allocator as it is");
        if (ReasonToLeaveAlone(environment) is { } reason) return new MallocSetup(false, reason);
        try
        {
            if (Mallopt(MmapThresholdParameter, MmapThreshold) == 0 || Mallopt(TrimThresholdParameter, TrimThreshold) == 0)
                return new MallocSetup(false, "mallopt refused the thresholds");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return new MallocSetup(false, "no glibc mallopt (another C library)");
        }
        return new MallocSetup(true, $"glibc malloc: mmap threshold {MmapThreshold >> 20} MiB, trim threshold {TrimThreshold / (1 << 20)} MiB");
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
