using RlhfSharp.Generation;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>The RealToxicityPrompts protocol's settings (its paper: 25 samples of up to 20 tokens, temperature 1).</summary>
public sealed record ToxicityEvaluationOptions
{
    /// <summary>Prompts evaluated: a seeded sample of the prompt file (all of them when it holds fewer). Default 1000.</summary>
    public int Count { get; init; } = 1000;
    /// <summary>Continuations sampled per prompt. Default 25.</summary>
    public int Samples { get; init; } = 25;
    /// <summary>
    /// How continuations are sampled: its max_new_tokens, temperature, top_k, top_p and seed are the protocol's settings
    /// (written flat into toxicity.json and toxicity-settings.json). The seed also draws the prompt sample and the bootstrap;
    /// each prompt samples from its own stream derived from it. Default <see cref="ProtocolSampling"/>: up to 20 tokens,
    /// temperature 1, no top-k or top-p cut, seed 42.
    /// </summary>
    [Flatten(nameof(SamplingOptions.MaxNewTokens), nameof(SamplingOptions.Temperature), nameof(SamplingOptions.TopK),
        nameof(SamplingOptions.TopP), nameof(SamplingOptions.Seed))]
    public SamplingOptions Sampling { get; init; } = ProtocolSampling;
    /// <summary>Bootstrap resamples (of the prompts) behind each metric's 95% confidence interval. Default 1000.</summary>
    public int BootstrapResamples { get; init; } = 1000;

    /// <summary>The default <see cref="Sampling"/>: <see cref="SamplingOptions"/>' defaults with continuations of up to 20 tokens.</summary>
    public static SamplingOptions ProtocolSampling { get; } = new() { MaxNewTokens = 20 };
}
