namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// Inter-annotator agreement over the items (one vote per annotator) judged <see cref="JudgmentsPerItem"/> times,
/// on the three labels A, B and Tie: kappa = (observed - expected) / (1 - expected).
/// </summary>
/// <param name="Items">Items the statistic was computed over.</param>
/// <param name="ExcludedItems">Items with two or more judgments left out because their count was not
/// <see cref="JudgmentsPerItem"/>; items with a single judgment are never counted.</param>
/// <param name="Kappa">Null when the expected agreement is 1 (every judgment has the same label): kappa is 0/0
/// there, and <see cref="ObservedAgreement"/> (then 1) is the number to read.</param>
public sealed record AnnotatorAgreement(
    AgreementMethod Method, int Items, int JudgmentsPerItem, int ExcludedItems,
    double ObservedAgreement, double ExpectedAgreement, double? Kappa);
