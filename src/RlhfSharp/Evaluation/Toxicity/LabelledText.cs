namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// A text with a binary toxicity label, for training and judging toxicity scorers; <see cref="Group"/> is the identity
/// group the text is about, where the data says (ToxiGen's target_group), for the identity-bias check.
/// </summary>
public sealed record LabelledText(string Text, bool Toxic, string? Group = null);
