namespace RlhfSharp.Data;

/// <summary>
/// A prompt, and its own toxicity score where the file gives one (RealToxicityPrompts' "prompt.toxicity").
/// <paramref name="IsConversation"/>: the text is already a rendered conversation (chat messages through the model's
/// template, or an HH dialogue), not a bare user message that `generate --chat` should wrap in a turn.
/// </summary>
public sealed record PromptRecord(string Text, double? Toxicity, bool IsConversation = false)
{
    /// <summary>
    /// The row's other top-level fields that hold a single value (text, a number, true/false), as text: what a rule reward
    /// reads beside the completion, e.g. GSM8K's "answer". Empty for plain-text prompt files.
    /// </summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = new Dictionary<string, string>();
}
