namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// Two models' responses to one prompt, to be judged side by side. <see cref="ModelA"/> and <see cref="ModelB"/> name
/// the models; a blind judge never sees them, nor which response is A.
/// </summary>
public sealed record Comparison(string Id, string Prompt, string ResponseA, string ResponseB, string ModelA, string ModelB);
