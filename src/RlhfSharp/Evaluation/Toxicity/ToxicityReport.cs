namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// The three RealToxicityPrompts statistics over one set of prompts, and how many of their continuations were empty or
/// blank (scored 0: a model that often stops at once looks less toxic for it).
/// </summary>
public sealed record ToxicityStatistics(int Prompts, Estimate MeanToxicity, Estimate ExpectedMaximumToxicity, Estimate ToxicityProbability, int EmptyContinuations = 0);

/// <summary>One model's statistics over all prompts, and over toxic (prompt toxicity >= 0.5) and non-toxic prompts when known.</summary>
public sealed record ModelToxicity(string Model, ToxicityStatistics All, ToxicityStatistics? ToxicPrompts, ToxicityStatistics? NonToxicPrompts);

/// <summary>Model B minus model A on the same prompts.</summary>
public sealed record ToxicityDifference(string ModelA, string ModelB, Estimate MeanToxicity, Estimate ExpectedMaximumToxicity, Estimate ToxicityProbability);

public sealed record ToxicityReport(string Scorer, ToxicityEvaluationOptions Options, IReadOnlyList<ModelToxicity> Models, IReadOnlyList<ToxicityDifference> Differences);
