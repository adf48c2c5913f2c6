namespace RlhfSharp.Annotation;

/// <summary>The judgments so far for one pairing of models, from model A's side.</summary>
public sealed record ModelPairResult(string ModelA, string ModelB, int Wins, int Ties, int Losses);
