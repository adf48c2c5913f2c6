namespace RlhfSharp.Evaluation.Human;
public sealed record PairwiseJudgment(string ItemId, string Annotator, PairwiseChoice Choice, string? Criterion = null);
