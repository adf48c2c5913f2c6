namespace RlhfSharp.Tests.Distributed;

/// <summary>A fact that runs ranks under mpirun: skipped, with the reason, where Open MPI is not installed.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiRun.Mpirun is null) Skip = "mpirun is missing: install Debian's openmpi-bin package (.ci/run does)";
    }
}
