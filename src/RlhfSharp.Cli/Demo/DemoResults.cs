
namespace RlhfSharp.Cli.Demo;

/// <summary>
/// What the evaluation stage measured; eval/results.json, which the report is rendered from. <see cref="Methods"/> are the
/// compared methods' names in order; <see cref="Compared"/> holds one row per method, <see cref="HeadToHead"/> one comparison
/// per pair of methods, <see cref="Styles"/> the oracle's reading of every model's answers (keyed "sft" and by method).
/// </summary>
internal sealed record DemoResults(
    IReadOnlyList<string> Methods,
    RewardModelResult RewardModel,
    SftScores Sft,
    IReadOnlyList<MethodResult> Compared,
    IReadOnlyList<PairwiseResult> HeadToHead,
    KlProtocol Kl,
    ToxicityResult Toxicity,
    IReadOnlyDictionary<string, IReadOnlyDictionary<ResponseStyle, int>> Styles,
    PpoResult? Ppo,
    DpoResult? Dpo,
    GrpoResult? Grpo,
    IReadOnlyList<SampleRow> Samples,
    IReadOnlyList<RoundResult>? Rounds = null)
{
    public MethodResult Method(string name) => Compared.Single(m => m.Method == name);
}

/// <summary>
/// Held-out accuracy of the reward model on oracle-labelled pairs of unseen prompts (labels include the oracle's noise),
/// against the oracle's noise-free preference, and by the pair of styles compared.
/// </summary>
internal sealed record RewardModelResult(double HeldOutAccuracy, int HeldOutPairs, double AccuracyVsTruth, IReadOnlyList<StylePairAccuracy> ByStylePair);

/// <summary>How often the reward model ranks <see cref="Better"/> above <see cref="Worse"/> (by the oracle's noise-free preference).</summary>
internal sealed record StylePairAccuracy(ResponseStyle Better, ResponseStyle Worse, int Pairs, double Accuracy);

/// <summary>
/// One row of the comparison table. <see cref="RewardModelScore"/>: the reward model's mean score of the method's answers to the
/// held-out prompts of the pairwise comparison. <see cref="KlToSft"/>: see <see cref="KlProtocol"/>, with its standard error.
/// <see cref="TrainingSeconds"/>: the wall time of the method's training stage.
/// </summary>
internal sealed record MethodResult(string Method, PairwiseResult VsSft, double RewardModelScore, double KlToSft, double KlStandardError,
    MethodToxicity Toxicity, double? TrainingSeconds);

/// <summary>The SFT model's row of the comparison table (it is the reference, so no pairwise result and no KL).</summary>
internal sealed record SftScores(double RewardModelScore, double MeanToxicity, double? TrainingSeconds);

/// <summary><see cref="Model"/> (B in the comparisons) against <see cref="Against"/> (A) by the oracle: wins, ties and losses of the model.</summary>
internal sealed record PairwiseResult(string Model, string Against, int Prompts, int Wins, int Ties, int Losses, double AtLeastAsGood, double? WinRate,
    double? WinRateLower, double? WinRateUpper, double SignTestP, string Judge);

/// <summary>
/// How KL(method || SFT) was estimated: <see cref="SamplesPerPrompt"/> responses of the method to each of <see cref="Prompts"/>
/// held-out prompts, sampled at temperature 1 (the method's own distribution) up to <see cref="MaxNewTokens"/> tokens or the next
/// human turn, as PPO's rollouts are; each response's sum over its tokens of log p_method - log p_SFT, averaged: an unbiased
/// estimate of the KL between the two models' response distributions, in nats per response, comparable to PPO's training KL.
/// </summary>
internal sealed record KlProtocol(int Prompts, int SamplesPerPrompt, double Temperature, int MaxNewTokens);

/// <summary>The toxicity protocol (RealToxicityPrompts) and SFT's mean; each method's numbers are in its <see cref="MethodResult"/>.</summary>
internal sealed record ToxicityResult(int Prompts, int SamplesPerPrompt, string Scorer, double SftMean);

/// <summary>A method's mean toxicity and its difference to SFT's with the 95% paired bootstrap interval.</summary>
internal sealed record MethodToxicity(double Mean, double Difference, double DifferenceLower, double DifferenceUpper);

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

/// <summary>
/// DPO's course: the loss and the implicit reward's accuracy on the training pairs (means over the first and the last
/// <see cref="Window"/> logged records), and on the held-out pairs at the last evaluation, where the reward model's accuracy
/// stands beside it. The implicit reward is beta x log(policy / reference) of a response.
/// </summary>
internal sealed record DpoResult(long Steps, double Beta, int Window, double FirstLoss, double LastLoss, double FirstAccuracy, double LastAccuracy,
    double? HeldOutAccuracy, double? HeldOutMargin);

/// <summary>
/// GRPO's course: the summed reward of the sampled completions and its two parts, the reward model's score and the rule
/// reward (the share of completions that contain the fact's answer, over all prompts, harmful requests and insults included),
/// as means over the first and the last <see cref="Window"/> steps; the KL to SFT (k3 estimate per token) over the last
/// <see cref="Window"/>; the share of groups whose completions all scored the same (they teach nothing); and the greedy
/// held-out reward at the end.
/// </summary>
internal sealed record GrpoResult(long Steps, int Window, double FirstReward, double LastReward, double FirstRewardModel, double LastRewardModel,
    double FirstRuleReward, double LastRuleReward, double LastKl, double ZeroSpreadShare, double? LastEvalReward);

/// <summary>One held-out prompt with every model's response (SFT first) and the oracle's reading of it.</summary>
internal sealed record SampleRow(string Topic, string Request, IReadOnlyList<SampleResponse> Responses);

internal sealed record SampleResponse(string Model, string Response, ResponseStyle Style);

/// <summary>
/// One round of feedback. Round 1: PPO against the reward model trained on the oracle's labels; later rounds: simulated
/// annotators judged the round's comparisons in the annotation app, the reward model and PPO continued. <see cref="VsSft"/>: the
/// round's policy against SFT on the evaluation's held-out prompts (the demo's oracle). <see cref="VsPrevious"/>: the round's own
/// evaluation, the annotators judging the new policy against the previous round's on held-out prompts (null for round 1, whose
/// previous policy is SFT). <see cref="Judgments"/>: preferences collected for the round (round 1: the oracle's labels).
/// </summary>
internal sealed record RoundResult(int Round, string Policy, int Judgments, int Comparisons, double? Agreement, double? Kappa, int PreferencePairs,
    double RewardModelAccuracy, PairwiseResult VsSft, Loop.StudyFigures? VsPrevious, double? Seconds);
