namespace RlhfSharp.Annotation;

/// <summary>An item as a judge sees it: an opaque id, the prompt and the two responses by side, nothing about the models.</summary>
public sealed record ItemView(long ItemId, string Prompt, string Left, string Right);
