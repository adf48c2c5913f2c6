using System.Text.Json;

namespace RlhfSharp.Data;

/// <summary>
/// Turns a row of a known layout into an example, or a <see cref="BadRowException"/>. Prompts (except for plain-text
/// documents, which have none) and SFT completions must not be empty (whitespace only). A preference pair may have one empty response: HH-RLHF holds such pairs on purpose
/// (annotators preferred an empty reply to a harmful one, or rejected an empty reply); both empty is a bad row.
/// </summary>
internal static class RowParser
{
    public static PreferencePair Preference(DataLayout layout, DataRow row, ChatFormat chat)
    {
        var pair = layout switch
        {
            DataLayout.HhDialogue when row.IsList("chosen") => ChatConversations(row, chat),
            DataLayout.HhDialogue => HhDialogue.Split(row.Text("chosen"), row.Text("rejected")),
            DataLayout.RmStatic when row.IsList("prompt") =>
                chat.Pair(ChatMessage.ParsePrompt(row.Array("prompt"), "prompt"), AssistantReply(row, "chosen"), AssistantReply(row, "rejected")),
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

    public static SftExample Sft(DataLayout layout, DataRow row, ChatFormat chat)
    {
        var example = layout switch
        {
            DataLayout.PromptCompletion => new SftExample(row.Text("prompt"), row.Text("completion")),
            DataLayout.ChatMessages => chat.Sft(ChatMessage.ParseConversation(row.Array("messages"))),
            DataLayout.RmStatic => new SftExample(row.Text("prompt"), row.Text("chosen")),
            DataLayout.HhDialogue => ChosenOnly(HhDialogue.Split(row.Text("chosen"), row.Text("rejected"))),
            DataLayout.PlainText => new SftExample("", row.Text("text")),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not an SFT layout"),
        };
        if (layout != DataLayout.PlainText) RequirePrompt(example.Prompt);
        if (string.IsNullOrWhiteSpace(example.Completion)) throw new BadRowException("empty completion");
        return example;
    }

    public static PromptRecord Prompt(DataLayout layout, DataRow row, ChatFormat chat)
    {
        var prompt = layout switch
        {
            DataLayout.PromptOnly when row.IsList("prompt") => new PromptRecord(chat.Prompt(ChatMessage.ParsePrompt(row.Array("prompt"), "prompt")), null, IsConversation: true),
            DataLayout.PromptOnly => row.Object("prompt") is { } scored ? RealToxicityPrompt(scored) : new PromptRecord(row.Text("prompt"), null),
            DataLayout.ChatMessages => new PromptRecord(chat.Prompt(ChatPrompt(row.Array("messages"))), null, IsConversation: true),
            DataLayout.HhDialogue => new PromptRecord(HhDialogue.Split(row.Text("chosen"), row.Text("rejected")).Prompt, null, IsConversation: true),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a prompt layout"),
        };
        RequirePrompt(prompt.Text);
        return prompt with { Fields = row.ScalarFields(except: ["prompt", "messages", "chosen", "rejected"]) };
    }

    /// <summary>RealToxicityPrompts: <c>"prompt": {"text": "...", "toxicity": 0.1, ...}</c> (the score may be missing or null).</summary>
    static PromptRecord RealToxicityPrompt(JsonElement prompt)
    {
        if (!prompt.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            throw new BadRowException("expected \"prompt\": {\"text\": \"...\"} (RealToxicityPrompts)");
        bool scored = prompt.TryGetProperty("toxicity", out var toxicity) && toxicity.ValueKind == JsonValueKind.Number;
        return new PromptRecord(text.GetString()!, scored ? toxicity.GetDouble() : null);
    }

    /// <summary>
    /// "chosen" and "rejected" as whole conversations (TRL's conversational preference layout) that differ only in their
    /// last (assistant) message.
    /// </summary>
    static PreferencePair ChatConversations(DataRow row, ChatFormat chat)
    {
        var chosen = ChatMessage.ParseConversation(row.Array("chosen"), "chosen");
        var rejected = ChatMessage.ParseConversation(row.Array("rejected"), "rejected");
        if (!chosen.Take(chosen.Count - 1).SequenceEqual(rejected.Take(rejected.Count - 1)))
            throw new BadRowException("\"chosen\" and \"rejected\" differ before their last message");
        return chat.Pair([.. chosen.Take(chosen.Count - 1)], chosen[^1].Content, rejected[^1].Content);
    }

    /// <summary>A response given as text, or as a list of one assistant message (TRL's layout with a chat "prompt").</summary>
    static string AssistantReply(DataRow row, string field)
    {
        if (!row.IsList(field)) return row.Text(field);
        var messages = row.Array(field);
        if (messages.GetArrayLength() != 1 || !messages[0].TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
            || role.GetString() != "assistant" || !messages[0].TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
            throw new BadRowException($"field \"{field}\" must be text or a list of one assistant message with string \"content\"");
        return content.GetString()!;
    }

    /// <summary>A chat as a prompt: up to a last user message; a conversation that ends with the assistant's reply is cut before it.</summary>
    static IReadOnlyList<ChatMessage> ChatPrompt(JsonElement messages) =>
        messages.GetArrayLength() > 0 && messages[messages.GetArrayLength() - 1] is { ValueKind: JsonValueKind.Object } last
            && last.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.GetString() == "assistant"
            ? [.. ChatMessage.ParseConversation(messages).SkipLast(1)]
            : ChatMessage.ParsePrompt(messages, "messages");

    static SftExample ChosenOnly(PreferencePair pair) => new(pair.Prompt, pair.Chosen);

    static void RequirePrompt(string prompt)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new BadRowException("empty prompt");
    }
}
