namespace RlhfSharp.Tests.Training.Configuration;

/// <summary>An options class shaped like the trainers' ones, for the YAML configuration tests.</summary>
public sealed record SampleTrainingOptions
{
    public string Model { get; init; } = "gpt2";
    public double LearningRate { get; init; } = 5e-5;
    public int MaxSteps { get; init; } = 100;
    public bool Shuffle { get; init; } = true;
    public string? OutputDir { get; init; }
    public string[] StopSequences { get; init; } = [];
    public OptimizerOptions Optimizer { get; init; } = new();

    public sealed record OptimizerOptions
    {
        public double Beta1 { get; init; } = 0.9;
        public double WeightDecay { get; init; }
    }
}
