using System.Runtime.InteropServices;

namespace RlhfSharp.Native;

/// <summary>The process's resident memory now, for measurements that compare what two ways of doing one thing keep in memory.</summary>
public static partial class ProcessMemory
{
    /// <summary>Resident memory now (the second field of /proc/self/statm, in pages; 0 elsewhere).</summary>
    public static long CurrentResidentBytes() =>
        File.Exists("/proc/self/statm") ? long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize : 0;

    /// <summary>
    /// Hands memory that C's malloc keeps after a free back to the system (glibc's malloc_trim), so resident memory
    /// measured next counts what is in use, not freed tensors of an earlier stage; a no-op without glibc.
    /// </summary>
    public static void ReleaseFreed()
    {
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
