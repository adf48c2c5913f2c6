namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>The RealToxicityPrompts protocol's settings (its paper: 25 samples of up to 20 tokens, temperature 1).</summary>
public sealed record ToxicityEvaluationOptions
{
    public int Count { get; init; } = 1000;
    public int Samples { get; init; } = 25;
    public int MaxNewTokens { get; init; } = 20;
    public double Temperature { get; init; } = 1.0;
    public int TopK { get; init; }
    public double TopP { get; init; } = 1.0;
    public ulong Seed { get; init; } = 42;
    public int BootstrapResamples { get; init; } = 1000;
}
