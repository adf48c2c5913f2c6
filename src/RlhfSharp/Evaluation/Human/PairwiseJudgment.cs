namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// One annotator's (a person's or an automated judge's) verdict on one item: the two models' responses to the same
/// prompt. <paramref name="Criterion"/> names what the judge weighed (helpfulness, harmlessness, ...), if anything; the
/// report counts the item once whatever the criterion and breaks the judgments down by criterion beside.
/// </summary>
public sealed record PairwiseJudgment(string ItemId, string Annotator, PairwiseChoice Choice, string? Criterion = null);
