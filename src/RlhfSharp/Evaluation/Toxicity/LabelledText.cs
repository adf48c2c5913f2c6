namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>A text with a binary toxicity label, for training and judging toxicity scorers.</summary>
public sealed record LabelledText(string Text, bool Toxic);
