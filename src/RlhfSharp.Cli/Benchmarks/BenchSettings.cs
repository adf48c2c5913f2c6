namespace RlhfSharp.Cli.Benchmarks;

/// <summary>What one `rlhf bench` run measures, resolved from its options.</summary>
internal sealed record BenchSettings
{
    /// <summary>LibTorch threads on both sides (the PyTorch reference gets torch.set_num_threads with the same count).</summary>
    public required int Threads { get; init; }
    /// <summary>Timed runs per case and side, alternating ours and PyTorch's after one warm-up each; medians are reported.</summary>
    public int Repeats { get; init; } = 5;
    /// <summary>Models for the training cases, by <see cref="BenchModels"/> name.</summary>
    public IReadOnlyList<string> TrainingModels { get; init; } = BenchModels.Names;
    /// <summary>Models for the generation cases: the small GPT-2 shape and today's typical small open model's.</summary>
    public IReadOnlyList<string> GenerationModels { get; init; } = ["23m", BenchModels.Qwen25];
    /// <summary>Examples per training step (default 4) of <see cref="Sequence"/> tokens (default 256).</summary>
    public int Batch { get; init; } = 4;
    public int Sequence { get; init; } = 256;
    /// <summary>Generation batch sizes (default 1 and 16), prompt length (16) and new tokens per row (128).</summary>
    public IReadOnlyList<int> DecodeBatches { get; init; } = [1, 16];
    public int PromptTokens { get; init; } = 16;
    public int NewTokens { get; init; } = 128;
    /// <summary>The python3 that imports torch, when comparing with PyTorch; null runs our side only.</summary>
    public string? Python { get; init; }
}
