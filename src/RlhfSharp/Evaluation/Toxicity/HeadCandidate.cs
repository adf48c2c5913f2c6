namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>One model the trainer tries: logistic regression (Hidden 0) or a one-hidden-layer MLP, with an L2 penalty.</summary>
public sealed record HeadCandidate(int Hidden, double L2, int Steps = 400, double LearningRate = 0.02)
{
    public string Kind => Hidden == 0 ? "logistic" : "mlp";

    public string Name => Hidden == 0 ? $"logistic l2={L2:G2}" : $"mlp hidden={Hidden} l2={L2:G2}";

    /// <summary>Logistic regression at three strengths, then a small MLP.</summary>
    public static IReadOnlyList<HeadCandidate> Defaults { get; } =
        [new(0, 1e-3), new(0, 1e-2), new(0, 1e-1), new(32, 1e-3, LearningRate: 0.005)];
}
