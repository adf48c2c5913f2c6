
namespace RlhfSharp.Cli.Demo;

/// <summary>What the evaluation stage measured; eval/results.json, which the report is rendered from.</summary>
internal sealed record DemoResults(
    RewardModelResult RewardModel,
    PairwiseResult Pairwise,
    IReadOnlyDictionary<string, IReadOnlyDictionary<ResponseStyle, int>> Styles,
    ToxicityResult Toxicity,
    PpoResult Ppo,
    IReadOnlyList<SampleRow> Samples);

/// <summary>
/// Held-out accuracy of the reward model on oracle-labelled pairs of unseen prompts (labels include the oracle's noise),
/// against the oracle's noise-free preference, and by the pair of styles compared.
/// </summary>
internal sealed record RewardModelResult(double HeldOutAccuracy, int HeldOutPairs, double AccuracyVsTruth, IReadOnlyList<StylePairAccuracy> ByStylePair);

/// <summary>How often the reward model ranks <see cref="Better"/> above <see cref="Worse"/> (by the oracle's noise-free preference).</summary>
internal sealed record StylePairAccuracy(ResponseStyle Better, ResponseStyle Worse, int Pairs, double Accuracy);

/// <summary>RLHF (B) against SFT (A) by the oracle: wins, ties and losses of RLHF.</summary>
internal sealed record PairwiseResult(int Prompts, int Wins, int Ties, int Losses, double AtLeastAsGood, double? WinRate,
    double? WinRateLower, double? WinRateUpper, double SignTestP, string Judge);

internal sealed record ToxicityResult(int Prompts, int SamplesPerPrompt, double SftMean, double RlhfMean, double Difference,
    double DifferenceLower, double DifferenceUpper, string Scorer);

/// <summary>
/// PPO's course. One batch's mean swings with the topics it drew, so the rewards and the KL are means over a window: the first
/// and the last <see cref="Window"/> iterations. <see cref="FirstBeta"/> and <see cref="LastBeta"/> show the KL controller at work.
/// </summary>
internal sealed record PpoResult(long Iterations, int Window, double FirstReward, double LastReward, double? FirstEvalReward, double? LastEvalReward,
    double LastKl, double KlTarget, double FirstBeta, double LastBeta)
{
    /// <summary>The late KL is within a factor of two of the target, either way.</summary>
    public bool KlNearTarget => LastKl >= KlTarget / 2 && LastKl <= KlTarget * 2;
}

/// <summary>One held-out prompt with both models' responses and the oracle's reading of them.</summary>
internal sealed record SampleRow(string Topic, string Request, string SftResponse, ResponseStyle SftStyle, string RlhfResponse, ResponseStyle RlhfStyle);
