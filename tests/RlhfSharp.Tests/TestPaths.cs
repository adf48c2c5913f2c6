using System.Runtime.CompilerServices;

namespace RlhfSharp.Tests;

/// <summary>Locations the tests read: the repository root and the shared data beside it.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>../shared/data relative to the repository root (CI has it at the same place).</summary>
    public static string SharedData { get; } = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data"));

    public static string Shared(params string[] parts) => Path.Combine([SharedData, .. parts]);

    /// <summary>This test run's scratch root; removed when the test process exits (models and runs add up to hundreds of MB).</summary>
    static readonly Lazy<string> ScratchRoot = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), $"rlhf-tests-{Environment.ProcessId}");
        RemoveRootsOfEndedRuns();
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); }
            catch (IOException) { } // a file still held open: the system's temp cleaner gets it later
            catch (UnauthorizedAccessException) { }
        };
        return root;
    });

    /// <summary>The test host is sometimes ended without ProcessExit running: each run sweeps the roots of finished ones.</summary>
    static void RemoveRootsOfEndedRuns()
    {
        foreach (string dir in Directory.GetDirectories(Path.GetTempPath(), "rlhf-tests-*"))
        {
            if (!int.TryParse(Path.GetFileName(dir)["rlhf-tests-".Length..], out int pid) || IsRunning(pid)) continue;
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        static bool IsRunning(int pid)
        {
            try { using var process = System.Diagnostics.Process.GetProcessById(pid); return !process.HasExited; }
            catch (ArgumentException) { return false; }
        }
    }

    /// <summary>A fresh empty folder under this run's scratch root.</summary>
    public static string NewTempDirectory(string prefix = "rlhf-test")
    {
        string dir = Path.Combine(ScratchRoot.Value, $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RlhfSharp.slnx"))) return dir.FullName;
        throw new InvalidOperationException("RlhfSharp.slnx not found above " + AppContext.BaseDirectory);
    }
}

internal static class TestAssemblySetup
{
    // Tests may touch TorchSharp before RlhfSharp; the native environment must be ready first.
    [ModuleInitializer]
    internal static void PrepareTorch() => RlhfSharp.Native.TorchRuntime.PrepareNativeEnvironment();
}
