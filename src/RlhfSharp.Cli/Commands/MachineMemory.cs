namespace RlhfSharp.Cli.Commands;

/// <summary>This machine's memory as Linux reports it: MemTotal, and MemAvailable (what can be allocated without swapping).</summary>
internal readonly record struct MachineMemory(long TotalBytes, long AvailableBytes)
{
    const string MemInfo = "/proc/meminfo";

    /// <summary>/proc/meminfo's figures; null where there is no such file (not Linux) or it lacks them.</summary>
    public static MachineMemory? Read() => File.Exists(MemInfo) ? Parse(File.ReadAllText(MemInfo)) : null;

    /// <summary>MemTotal and MemAvailable ("MemTotal:  24683652 kB" lines) in bytes.</summary>
    public static MachineMemory? Parse(string memInfo)
    {
        long? Field(string name) => memInfo.Split('\n')
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim() == name)
            .Select(parts => long.TryParse(parts[1].Replace("kB", "").Trim(), out long kib) ? kib * 1024 : (long?)null)
            .FirstOrDefault();
        return Field("MemTotal") is long total && Field("MemAvailable") is long available ? new MachineMemory(total, available) : null;
    }
}
