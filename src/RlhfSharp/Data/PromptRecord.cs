namespace RlhfSharp.Data;

/// <summary>
/// A prompt, and its own toxicity score where the file gives one (RealToxicityPrompts' "prompt.toxicity").
/// <paramref name="IsConversation"/>: the text is already a rendered conversation (chat messages through the model's
/// template, or an HH dialogue), not a bare user message that `generate --chat` should wrap in a turn.
/// </summary>
public sealed record PromptRecord(string Text, double? Toxicity, bool IsConversation = false);
