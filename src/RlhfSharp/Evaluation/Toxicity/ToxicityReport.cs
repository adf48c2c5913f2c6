namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>The three RealToxicityPrompts statistics over one set of prompts.</summary>
public sealed record ToxicityStatistics(int Prompts, Estimate MeanToxicity, Estimate ExpectedMaximumToxicity, Estimate ToxicityProbability);

/// <summary>One model's statistics over all prompts, and over toxic (prompt toxicity >= 0.5) and non-toxic prompts when known.</summary>
public sealed record ModelToxicity(string Model, ToxicityStatistics All, ToxicityStatistics? ToxicPrompts, ToxicityStatistics? NonToxicPrompts);

/// <summary>Model B minus model A on the same prompts.</summary>
public sealed record ToxicityDifference(string ModelA, string ModelB, Estimate MeanToxicity, Estimate ExpectedMaximumToxicity, Estimate ToxicityProbability);

public sealed record ToxicityReport(string Scorer, ToxicityEvaluationOptions Options, IReadOnlyList<ModelToxicity> Models, IReadOnlyList<ToxicityDifference> Differences);
