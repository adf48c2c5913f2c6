namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// What one <see cref="LoraBenchCase"/> measured, as its process hands it back (JSON) and bench.json keeps it: the model's
/// size (adapters left out), what was trained, the process's peak resident memory; SFT's tokens/s, PPO's time split.
/// </summary>
internal sealed record LoraCaseResult
{
    public required string Kind { get; init; }
    public required string Layout { get; init; }
    public required string Model { get; init; }
    public required string Label { get; init; }
    public required long Parameters { get; init; }
    public required long TrainableParameters { get; init; }
    public int Adapters { get; init; }
    /// <summary>The process's resident-memory high-water mark (VmHWM) at the end: weights, optimizer state, activations, runtime.</summary>
    public double PeakRssMb { get; init; }

    // SFT
    public long? TokensPerStep { get; init; }
    public IReadOnlyList<double>? StepSeconds { get; init; }
    public double? TokensPerSecond { get; init; }
    public double? OptimizerStateMb { get; init; }

    // PPO
    /// <summary>The reward model's parameters that are not the policy's: all of a second model's, or a shared-base reward adapter's own.</summary>
    public long? RewardOwnParameters { get; init; }
    /// <summary>Whether the reward model is an adapter on the policy's base (<see cref="LoraBenchCase.SharedReward"/>).</summary>
    public bool SharedReward { get; init; }
    /// <summary>Hydra: the bottom blocks frozen and run once for policy and reference.</summary>
    public int? SharedLayers { get; init; }
    /// <summary>The reference's own weights (0 for LoRA: it is the policy with its adapters off).</summary>
    public double? ReferenceOwnMb { get; init; }
    public PpoSplit? Split { get; init; }
}
