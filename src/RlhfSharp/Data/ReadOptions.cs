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

    Lazy<Templating.ChatTemplateRenderer?>? _folderTemplate;

    /// <summary>
    /// Options whose chat rows render with the chat template of a model folder, when it has one: read on the first chat row,
    /// so a template the engine cannot handle stops only a run that needs it.
    /// </summary>
    public static ReadOptions ForModel(string modelDirectory, bool skipBadRows) => new()
    {
        SkipBadRows = skipBadRows,
        _folderTemplate = new Lazy<Templating.ChatTemplateRenderer?>(() => Templating.ChatTemplateRenderer.FromModelDirectory(modelDirectory)),
    };

    internal ChatFormat Chat => new(ChatTemplate, () => EffectiveModelTemplate);

    Templating.ChatTemplateRenderer? EffectiveModelTemplate => ModelTemplate ?? _folderTemplate?.Value;

    /// <summary>Whether chat rows render with a model's own template (else with <see cref="ChatTemplate"/>).</summary>
    public bool HasModelTemplate => EffectiveModelTemplate is not null;

    /// <summary>
    /// One user message as a prompt, rendered as chat prompts are: the model's template with its generation prompt, else
    /// <see cref="ChatTemplate"/> (HH: "\n\nHuman: {text}\n\nAssistant:").
    /// </summary>
    /// <exception cref="RlhfException">The template refuses the message (its raise_exception).</exception>
    public string UserTurnPrompt(string text)
    {
        try
        {
            return Chat.Prompt([new ChatMessage(ChatRole.User, text)]);
        }
        catch (BadRowException e)
        {
            throw new RlhfException(e.Message);
        }
    }
}
