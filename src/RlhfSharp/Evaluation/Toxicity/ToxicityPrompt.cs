namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>A prompt to continue, with its own toxicity when the data has it (RealToxicityPrompts' Perspective score).</summary>
public sealed record ToxicityPrompt(string Text, double? PromptToxicity);
