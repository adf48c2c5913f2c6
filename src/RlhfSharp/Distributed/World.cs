namespace RlhfSharp.Distributed;

/// <summary>Which world a process belongs to: MPI's when mpirun started it, otherwise a single process.</summary>
public static class World
{
    /// <summary>Overrides the MPI library to open (a path, or a name the loader searches).</summary>
    public const string LibraryVariable = "RLHF_MPI_LIBRARY";

    /// <summary>
    /// RLHF_ALLREDUCE: how float32 sums travel. shared (the default): shared memory when every rank is on one machine,
    /// otherwise MPI's all-to-all and all-gather with sums in rank order; ordered: the latter even on one machine; mpi:
    /// MPI_Allreduce (whose sums over three ranks or more are not in rank order, so they differ from one process's in the
    /// last bits).
    /// </summary>
    public const string AllReduceVariable = "RLHF_ALLREDUCE";

    /// <summary>
    /// RLHF_ALLREDUCE_OVERLAP=off all-reduces the gradients after backward instead of bucket by bucket during it (on, the
    /// default, needs an MPI that allows calls from a second thread, MPI_THREAD_SERIALIZED; otherwise it is off).
    /// </summary>
    public const string OverlapVariable = "RLHF_ALLREDUCE_OVERLAP";

    /// <summary>RLHF_ALLREDUCE_BUCKET_MB: the size of the gradient ranges all-reduced during backward, in MiB (default 25, as DDP's bucket_cap_mb).</summary>
    public const string BucketVariable = "RLHF_ALLREDUCE_BUCKET_MB";

    /// <summary>Variables the launchers set in every rank: Open MPI's mpirun, and PMIx/PMI launchers (srun, hydra).</summary>
    static readonly string[] LauncherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"];

    /// <summary>The world of this process, from its environment.</summary>
    public static IDistributed FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>
    /// MPI when a launcher's variables are set (<see cref="LauncherVariables"/>), else <see cref="SingleProcess"/>.
    /// </summary>
    /// <exception cref="RlhfException">Under a launcher, but the MPI library cannot be opened (one line).</exception>
    public static IDistributed FromEnvironment(Func<string, string?> variable)
    {
        if (!IsLaunched(variable)) return SingleProcess.Instance;
        string library = variable(LibraryVariable) is { Length: > 0 } path ? path : MpiLibrary.DefaultName;
        string? transport = variable(AllReduceVariable);
        var allReduce = transport switch
        {
            null or "" or "shared" => AllReduceChoice.Fastest,
            "ordered" => AllReduceChoice.Ordered,
            "mpi" => AllReduceChoice.Mpi,
            _ => throw new RlhfException($"{AllReduceVariable}={transport}: expected shared, ordered or mpi"),
        };
        string? overlap = OnOrOff(variable, OverlapVariable), peerWatch = OnOrOff(variable, PeerWatch.Variable);
        long rangeBytes = GradientBucket.DefaultRangeBytes;
        if (variable(BucketVariable) is { Length: > 0 } bucket)
        {
            if (!double.TryParse(bucket, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double megabytes)
                || !(megabytes > 0) || megabytes > 1e6)
                throw new RlhfException($"{BucketVariable}={bucket}: expected a size in MiB above 0, such as 25 or 0.5");
            rangeBytes = Math.Max(sizeof(float), (long)(megabytes * (1 << 20)));
        }
        return new MpiWorld(MpiLibrary.Open(library), allReduce, overlapGradientReduction: overlap != "off", peerWatch: peerWatch != "off")
        {
            GradientRangeBytes = rangeBytes,
        };
    }

    /// <summary>The variable's value: unset, empty, on or off; anything else is a one-line error.</summary>
    static string? OnOrOff(Func<string, string?> variable, string name) => variable(name) is { Length: > 0 } value and not ("on" or "off")
        ? throw new RlhfException($"{name}={value}: expected on or off")
        : variable(name);

    public static bool IsLaunched(Func<string, string?> variable) => LauncherVariables.Any(name => !string.IsNullOrEmpty(variable(name)));
}
