namespace RlhfSharp.Evaluation.Toxicity;

/// <param name="Head">the chosen candidate refitted on all training rows, with metrics filled in</param>
/// <param name="HeldOut">per dataset, then "pooled" over all held-out rows</param>
/// <param name="ValidationAuc">each candidate's mean over the datasets of its ROC-AUC on their validation rows, which chose it</param>
/// <param name="TextsPerSecond">embedding throughput over all rows</param>
/// <param name="IdentityBias">neutral held-out statements per group (null without grouped data)</param>
/// <param name="ImplicitHate">hateful held-out statements without a word-list term (null without grouped data)</param>
/// <param name="Perspective">agreement with Perspective on each set of texts it scored, then pooled</param>
public sealed record ToxicityTrainingResult(
    ToxicityHead Head, HeadCandidate Chosen, IReadOnlyList<HeldOutEvaluation> HeldOut,
    IReadOnlyDictionary<HeadCandidate, double> ValidationAuc, double TextsPerSecond,
    IdentityBias? IdentityBias = null, ImplicitHateCheck? ImplicitHate = null, IReadOnlyList<PerspectiveCalibration>? Perspective = null);
