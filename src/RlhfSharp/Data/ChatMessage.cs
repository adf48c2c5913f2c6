using System.Text.Json;

namespace RlhfSharp.Data;

/// <summary>One message of a chat row.</summary>
internal sealed record ChatMessage(ChatRole Role, string Content)
{
    /// <summary>
    /// A row's "messages" array, checked for what <see cref="ChatTemplate"/> needs: an optional leading system message,
    /// at least one user message, and a non-empty assistant message last.
    /// </summary>
    public static IReadOnlyList<ChatMessage> ParseConversation(JsonElement messages)
    {
        var result = new List<ChatMessage>();
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"messages[{result.Count}]";
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

        if (result.Count == 0 || result[^1].Role != ChatRole.Assistant) throw new BadRowException("the last message must be the assistant's");
        if (!result.Any(m => m.Role == ChatRole.User)) throw new BadRowException("no user message");
        if (string.IsNullOrWhiteSpace(result[^1].Content)) throw new BadRowException("the last assistant message is empty");
        return result;
    }
}
