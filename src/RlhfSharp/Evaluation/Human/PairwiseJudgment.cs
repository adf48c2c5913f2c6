namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// One annotator's (a person's or an automated judge's) verdict on one item: the two models' responses to the same
/// prompt. <paramref name="Criterion"/> names what was judged (helpfulness, harmlessness, ...) when the study asks
/// several questions per item; each criterion is then a separate question with its own majority and agreement.
/// </summary>
public sealed record PairwiseJudgment(string ItemId, string Annotator, PairwiseChoice Choice, string? Criterion = null);
