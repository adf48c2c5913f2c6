using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace RlhfSharp.Native;

/// <summary>
/// Brings LibTorch up with the process-wide settings RlhfSharp relies on. Call <see cref="Initialize"/>
/// before the first torch call; a module initializer calls it with defaults when this assembly loads.
/// </summary>
public static partial class TorchRuntime
{
    static readonly Lock Gate = new();
    static bool EnvironmentPrepared;

    /// <summary>What start-up did to C's malloc (<see cref="MallocTuning"/>); null until the environment is prepared.</summary>
    public static MallocSetup? Malloc { get; private set; }

    /// <summary>
    /// Puts OMP_WAIT_POLICY=PASSIVE into the native environment (unless the user set a policy) so that
    /// libgomp threads sleep instead of spinning between parallel regions: on 2 cores this measured ~25%
    /// more fp32 matmul throughput and avoids starving a second busy process. .NET's
    /// Environment.SetEnvironmentVariable does not reach native getenv on Linux, hence libc setenv. Then raises
    /// glibc's malloc thresholds before LibTorch allocates (<see cref="MallocTuning"/>).
    /// </summary>
    public static void PrepareNativeEnvironment()
    {
        lock (Gate)
        {
            if (EnvironmentPrepared) return;
            EnvironmentPrepared = true;
            Malloc = MallocTuning.Apply(Environment.GetEnvironmentVariable);
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY")))
                SetNativeEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
        }
    }

    /// <summary>
    /// Prepares the environment, loads LibTorch and sets the intra-op thread count: <paramref name="threads"/>
    /// when positive, else OMP_NUM_THREADS when set, else the number of logical cores.
    /// </summary>
    public static void Initialize(int threads = 0)
    {
        PrepareNativeEnvironment();
        set_num_threads(ResolveThreads(threads));
    }

    /// <summary>
    /// A one-line warning when <paramref name="threads"/> exceed the <paramref name="cores"/> this process may run on (its
    /// CPU affinity or a CPU limit, as Environment.ProcessorCount reads them), else null. Under mpirun the usual cause is
    /// its binding: a job of 2 ranks is bound one core per rank by default, also across hosts.
    /// </summary>
    public static string? OversubscriptionWarning(int threads, int cores, bool underLauncher) => threads <= cores ? null :
        $"warning: {threads} LibTorch threads, but this process may run on {cores} core{(cores == 1 ? "" : "s")}, so they take turns" +
        (underLauncher
            ? $" (mpirun binds each rank of a 2-rank job to one core by default: pass --bind-to none, or --map-by node:PE={threads})"
            : " (its CPU affinity or a CPU limit: taskset, a container's or a scheduler's)");

    public static int ResolveThreads(int requested)
    {
        if (requested > 0) return requested;
        if (int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out int fromEnv) && fromEnv > 0) return fromEnv;
        return Environment.ProcessorCount;
    }

    /// <summary>The value native code sees for <paramref name="name"/> (libc getenv).</summary>
    public static string? GetNativeEnvironmentVariable(string name)
    {
        IntPtr value = getenv(name);
        return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
    }

    static void SetNativeEnvironmentVariable(string name, string value)
    {
        if (setenv(name, value, 1) != 0) throw new InvalidOperationException($"setenv({name}) failed");
    }

#pragma warning disable CA2255 // a library module initializer is intended: it must run before LibTorch loads
    [ModuleInitializer]
    internal static void OnAssemblyLoad() => PrepareNativeEnvironment();
#pragma warning restore CA2255

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);
}
