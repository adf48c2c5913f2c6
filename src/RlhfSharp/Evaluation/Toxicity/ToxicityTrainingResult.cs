namespace RlhfSharp.Evaluation.Toxicity;

/// <param name="Head">the chosen candidate refitted on all training rows, with metrics filled in</param>
/// <param name="HeldOut">per dataset, then "pooled" over all held-out rows</param>
/// <param name="ValidationAuc">each candidate's ROC-AUC on the validation rows it was chosen by</param>
/// <param name="TextsPerSecond">embedding throughput over all rows</param>
public sealed record ToxicityTrainingResult(
    ToxicityHead Head, HeadCandidate Chosen, IReadOnlyList<HeldOutEvaluation> HeldOut,
    IReadOnlyDictionary<HeadCandidate, double> ValidationAuc, double TextsPerSecond);
