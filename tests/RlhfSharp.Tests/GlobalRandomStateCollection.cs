namespace RlhfSharp.Tests;

/// <summary>
/// Tests that compare runs bit for bit depend on LibTorch's process-wide random generator (weight
/// initialisation, dropout), which tests running in parallel would also draw from; these run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomStateCollection
{
    public const string Name = "global random state";
}
