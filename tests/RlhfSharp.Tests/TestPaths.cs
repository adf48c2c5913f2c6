using System.Runtime.CompilerServices;

namespace RlhfSharp.Tests;

/// <summary>Locations the tests read: the repository root and the shared data beside it.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>../shared/data relative to the repository root (CI has it at the same place).</summary>
    public static string SharedData { get; } = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data"));

    public static string Shared(params string[] parts) => Path.Combine([SharedData, .. parts]);

    /// <summary>A fresh empty folder under the system temp directory.</summary>
    public static string NewTempDirectory(string prefix = "rlhf-test")
    {
        string dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
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

static class TestAssemblySetup
{
    // Tests may touch TorchSharp before RlhfSharp; the native environment must be ready first.
    [ModuleInitializer]
    internal static void PrepareTorch() => RlhfSharp.Native.TorchRuntime.PrepareNativeEnvironment();
}
