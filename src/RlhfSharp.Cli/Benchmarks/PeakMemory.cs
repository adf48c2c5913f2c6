namespace RlhfSharp.Cli.Benchmarks;

/// <summary>The process's resident-memory high-water mark (Linux /proc; 0 elsewhere).</summary>
internal static class PeakMemory
{
    /// <summary>VmHWM from /proc/self/status: the most resident memory used since start or the last <see cref="Reset"/>.</summary>
    public static long ResidentBytes()
    {
        string? line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:")) : null;
        return line is null ? 0 : StatusBytes(line);
    }

    /// <summary>The bytes of a /proc status line such as "VmHWM:\t 8059904 kB".</summary>
    public static long StatusBytes(string line) => long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

    /// <summary>Restarts the high-water mark from the current use (writing 5 to clear_refs, Linux 4.0+), so
    /// each measured stage reports its own peak rather than an earlier, larger one's.</summary>
    public static void Reset()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
