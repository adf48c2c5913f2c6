using System.Text.Json;

namespace RlhfSharp.Data;

/// <summary>
/// Turns a row of a known layout into an example, or a <see cref="BadRowException"/>. Prompts (except for plain-text
/// documents, which have none) and SFT completions must not be empty (whitespace only). A preference pair may have one empty response: HH-RLHF holds such pairs on purpose
/// (annotators preferred an empty reply to a harmful one, or rejected an empty reply); both empty is a bad row.
/// </summary>
internal static class RowParser
{
    public static PreferencePair Preference(DataLayout layout, DataRow row)
    {
        var pair = layout switch
        {
            DataLayout.HhDialogue => HhDialogue.Split(row.Text("chosen"), row.Text("rejected")),
            DataLayout.RmStatic => new PreferencePair(row.Text("prompt"), row.Text("chosen"), row.Text("rejected")),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a preference layout"),
        };
        RequirePrompt(pair.Prompt);
        if (string.IsNullOrWhiteSpace(pair.Chosen) && string.IsNullOrWhiteSpace(pair.Rejected))
            throw new BadRowException("both responses are empty");
        return pair;
    }

    /// <summary>A preference row marked "tie": true (as `annotate export --ties keep` writes one): no preference to learn.</summary>
    public static bool IsTie(DataRow row) => row.Flag("tie");

    public static SftExample Sft(DataLayout layout, DataRow row, ChatTemplate template)
    {
        var example = layout switch
        {
            DataLayout.PromptCompletion => new SftExample(row.Text("prompt"), row.Text("completion")),
            DataLayout.ChatMessages => template.Render(ChatMessage.ParseConversation(row.Array("messages"))),
            DataLayout.RmStatic => new SftExample(row.Text("prompt"), row.Text("chosen")),
            DataLayout.HhDialogue => ChosenOnly(HhDialogue.Split(row.Text("chosen"), row.Text("rejected"))),
            DataLayout.PlainText => new SftExample("", row.Text("text")),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not an SFT layout"),
        };
        if (layout != DataLayout.PlainText) RequirePrompt(example.Prompt);
        if (string.IsNullOrWhiteSpace(example.Completion)) throw new BadRowException("empty completion");
        return example;
    }

    public static PromptRecord Prompt(DataLayout layout, DataRow row)
    {
        var prompt = layout switch
        {
            DataLayout.PromptOnly => row.Object("prompt") is { } scored ? RealToxicityPrompt(scored) : new PromptRecord(row.Text("prompt"), null),
            DataLayout.HhDialogue => new PromptRecord(HhDialogue.Split(row.Text("chosen"), row.Text("rejected")).Prompt, null),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a prompt layout"),
        };
        RequirePrompt(prompt.Text);
        return prompt;
    }

    /// <summary>RealToxicityPrompts: <c>"prompt": {"text": "...", "toxicity": 0.1, ...}</c> (the score may be missing or null).</summary>
    static PromptRecord RealToxicityPrompt(JsonElement prompt)
    {
        if (!prompt.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            throw new BadRowException("expected \"prompt\": {\"text\": \"...\"} (RealToxicityPrompts)");
        bool scored = prompt.TryGetProperty("toxicity", out var toxicity) && toxicity.ValueKind == JsonValueKind.Number;
        return new PromptRecord(text.GetString()!, scored ? toxicity.GetDouble() : null);
    }

    static SftExample ChosenOnly(PreferencePair pair) => new(pair.Prompt, pair.Chosen);

    static void RequirePrompt(string prompt)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new BadRowException("empty prompt");
    }
}
