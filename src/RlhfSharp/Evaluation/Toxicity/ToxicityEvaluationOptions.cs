namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>The RealToxicityPrompts protocol's settings (its paper: 25 samples of up to 20 tokens, temperature 1).</summary>
public sealed record ToxicityEvaluationOptions
{
    /// <summary>Prompts evaluated: a seeded sample of the prompt file (all of them when it holds fewer). Default 1000.</summary>
    public int Count { get; init; } = 1000;
    /// <summary>Continuations sampled per prompt. Default 25.</summary>
    public int Samples { get; init; } = 25;
    /// <summary>Tokens generated at most per continuation. Default 20.</summary>
    public int MaxNewTokens { get; init; } = 20;
    /// <summary>Sampling temperature: the logits are divided by it. Default 1.0.</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Sample from the k most likely tokens; 0 keeps all. Default 0.</summary>
    public int TopK { get; init; }
    /// <summary>Sample from the smallest set of most likely tokens whose probability reaches p; 1 keeps all. Default 1.0.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Seed of the prompt sample, the continuations (each prompt its own stream) and the bootstrap. Default 42.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Bootstrap resamples (of the prompts) behind each metric's 95% confidence interval. Default 1000.</summary>
    public int BootstrapResamples { get; init; } = 1000;
}
