using System.Text.Json;

namespace RlhfSharp.Data;

/// <summary>One message of a chat row.</summary>
internal sealed record ChatMessage(ChatRole Role, string Content)
{
    /// <summary>
    /// A row's "messages" array, checked for what <see cref="ChatTemplate"/> needs: an optional leading system message,
    /// at least one user message, and a non-empty assistant message last.
    /// </summary>
    public static IReadOnlyList<ChatMessage> ParseConversation(JsonElement messages, string field = "messages")
    {
        var result = Parse(messages, field);
        if (result.Count == 0 || result[^1].Role != ChatRole.Assistant) throw new BadRowException($"the last message of \"{field}\" must be the assistant's");
        if (!result.Any(m => m.Role == ChatRole.User)) throw new BadRowException($"no user message in \"{field}\"");
        if (string.IsNullOrWhiteSpace(result[^1].Content)) throw new BadRowException($"the last assistant message of \"{field}\" is empty");
        return result;
    }

    /// <summary>The messages of a prompt: an optional leading system message and a user message last (the model answers it).</summary>
    public static IReadOnlyList<ChatMessage> ParsePrompt(JsonElement messages, string field)
    {
        var result = Parse(messages, field);
        if (result.Count == 0 || result[^1].Role != ChatRole.User) throw new BadRowException($"the last message of \"{field}\" must be the user's");
        return result;
    }

    static List<ChatMessage> Parse(JsonElement messages, string field)
    {
        var result = new List<ChatMessage>();
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"{field}[{result.Count}]";
            if (message.ValueKind != JsonValueKind.Object
                || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                || !message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw new BadRowException($"{at} is not an object with string \"role\" and \"content\"");

            var parsed = new ChatMessage(role.GetString() switch
            {
                "system" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                var other => throw new BadRowException($"{at}.role \"{other}\" is not system, user or assistant"),
            }, content.GetString()!);
            if (parsed.Role == ChatRole.System && result.Count > 0) throw new BadRowException($"{at}: a system message must come first");
            result.Add(parsed);
        }
        return result;
    }

    /// <summary>The message as a chat template sees it.</summary>
    public Templating.ChatTurn ToTurn() => new(Role switch
    {
        ChatRole.System => "system",
        ChatRole.User => "user",
        _ => "assistant",
    }, Content);
}
