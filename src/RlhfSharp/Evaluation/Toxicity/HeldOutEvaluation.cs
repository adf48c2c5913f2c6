namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>How a trained head did on one dataset's held-out rows, beside the word list's any-match baseline.</summary>
public sealed record HeldOutEvaluation(string Dataset, int Rows, int Toxic, double HeadAuc, double? WordListAuc);
