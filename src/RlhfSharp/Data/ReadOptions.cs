namespace RlhfSharp.Data;

/// <summary>How <see cref="DatasetReader"/> treats bad rows and renders chat messages.</summary>
public sealed record ReadOptions
{
    /// <summary>Count and skip bad rows instead of failing on the first one.</summary>
    public bool SkipBadRows { get; init; }

    /// <summary>The template that turns <c>{"messages": [...]}</c> rows into prompt and completion.</summary>
    public ChatTemplate ChatTemplate { get; init; } = ChatTemplate.Hh;

    /// <summary>
    /// The model's own chat template (<see cref="Templating.ChatTemplateRenderer.FromModelDirectory"/>): when set, chat
    /// rows (SFT conversations, chat preference pairs and chat prompts) render with it instead of <see cref="ChatTemplate"/>.
    /// </summary>
    public Templating.ChatTemplateRenderer? ModelTemplate { get; init; }

    internal ChatFormat Chat => new(ChatTemplate, ModelTemplate);
}
