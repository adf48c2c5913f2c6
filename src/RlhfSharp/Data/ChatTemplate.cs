using System.Text;

namespace RlhfSharp.Data;

/// <summary>
/// How a chat (<c>{"messages": [{"role", "content"}, ...]}</c>) becomes an <see cref="SftExample"/>. Each user or
/// assistant message is rendered as its role prefix + <see cref="ContentPrefix"/> + content + <see cref="TurnSuffix"/>; a
/// system message (allowed first only) as <see cref="SystemPrefix"/> + content + <see cref="TurnSuffix"/>. The last
/// message must be the assistant's: the prompt is everything before it plus <see cref="AssistantPrefix"/>, and the
/// completion is <see cref="ContentPrefix"/> + its content + <see cref="TurnSuffix"/>.
/// </summary>
public sealed record ChatTemplate(string SystemPrefix, string UserPrefix, string AssistantPrefix, string ContentPrefix, string TurnSuffix)
{
    /// <summary>
    /// Anthropic HH-RLHF's format: "{system}\n\nHuman: {user}\n\nAssistant: {assistant}"; the prompt ends with
    /// "\n\nAssistant:" and the completion is " " + the last assistant message, as in HH-RLHF and rm-static data.
    /// </summary>
    public static ChatTemplate Hh { get; } = new(SystemPrefix: "", UserPrefix: "\n\nHuman:", AssistantPrefix: "\n\nAssistant:", ContentPrefix: " ", TurnSuffix: "");

    internal SftExample Render(IReadOnlyList<ChatMessage> messages) =>
        new(RenderPrompt([.. messages.Take(messages.Count - 1)]), Response(messages[^1].Content));

    /// <summary>The messages, then <see cref="AssistantPrefix"/>: what the model answers.</summary>
    internal string RenderPrompt(IReadOnlyList<ChatMessage> messages)
    {
        var prompt = new StringBuilder();
        foreach (var (role, content) in messages)
        {
            prompt.Append(role switch
            {
                ChatRole.System => SystemPrefix + content,
                ChatRole.User => UserPrefix + ContentPrefix + content,
                _ => AssistantPrefix + ContentPrefix + content,
            }).Append(TurnSuffix);
        }
        return prompt.Append(AssistantPrefix).ToString();
    }

    /// <summary>An assistant reply as it follows <see cref="RenderPrompt"/>.</summary>
    internal string Response(string content) => ContentPrefix + content + TurnSuffix;
}
