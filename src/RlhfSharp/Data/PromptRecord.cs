namespace RlhfSharp.Data;

/// <summary>A prompt, and its own toxicity score where the file gives one (RealToxicityPrompts' "prompt.toxicity").</summary>
public sealed record PromptRecord(string Text, double? Toxicity);
