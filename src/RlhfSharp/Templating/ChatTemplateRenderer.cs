using System.Text.Json;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Templating;

/// <summary>One message of a conversation: its role ("system", "user", "assistant", "tool"...) and text.</summary>
public sealed record ChatTurn(string Role, string Content);

/// <summary>A rendered conversation and the character ranges of it that are the assistant's turns.</summary>
public sealed record RenderedChat(string Text, IReadOnlyList<Range> AssistantSpans);

/// <summary>
/// A model's chat template, rendered as transformers' <c>apply_chat_template(messages, add_generation_prompt, tools)</c>
/// renders it: the template sees <c>messages</c> (dicts with at least "role" and "content"), <c>add_generation_prompt</c>,
/// <c>tools</c> (none when not given), <c>documents</c> (none) and the tokenizer's special tokens by name
/// (<c>bos_token</c>, <c>eos_token</c>, ...; a token the model does not declare is undefined).
/// </summary>
public sealed class ChatTemplateRenderer
{
    /// <summary>The special token names transformers passes to templates (its SPECIAL_TOKENS_ATTRIBUTES).</summary>
    public static readonly IReadOnlyList<string> SpecialTokenNames =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens"];

    /// <param name="specialTokens">Variables such as bos_token -> "&lt;s&gt;" (a list of strings for additional_special_tokens).</param>
    /// <param name="templateName">How errors name the template, e.g. its file.</param>
    public ChatTemplateRenderer(string template, IReadOnlyDictionary<string, object?> specialTokens, string templateName = "chat template")
        : this(JinjaTemplate.Parse(template, templateName), specialTokens)
    {
    }

    ChatTemplateRenderer(JinjaTemplate template, IReadOnlyDictionary<string, object?> specialTokens)
    {
        Template = template;
        SpecialTokens = specialTokens;
    }

    /// <summary>The same template with some special tokens set or replaced (e.g. from the command line).</summary>
    public ChatTemplateRenderer WithSpecialTokens(IReadOnlyDictionary<string, object?> tokens)
    {
        var merged = new Dictionary<string, object?>(SpecialTokens);
        foreach (var (name, value) in tokens) merged[name] = value;
        return new ChatTemplateRenderer(Template, merged);
    }

    public JinjaTemplate Template { get; }

    public IReadOnlyDictionary<string, object?> SpecialTokens { get; }

    /// <summary>
    /// The conversation as the model is fed it. With <paramref name="addGenerationPrompt"/> the text ends with what starts
    /// an assistant reply (for generation); without it, it ends after the last message (for training on whole chats).
    /// A template error, or a raise_exception in it (e.g. roles that do not alternate), is a <see cref="TemplateException"/>.
    /// </summary>
    public string Render(IReadOnlyList<ChatTurn> messages, bool addGenerationPrompt) =>
        RenderValues(Values(messages), addGenerationPrompt, tools: null).Text;

    /// <summary>
    /// As <see cref="Render(IReadOnlyList{ChatTurn}, bool)"/> for messages given as JSON (an array of objects, which may carry
    /// more than role and content, e.g. tool_calls), with optional JSON tool schemas.
    /// </summary>
    public string Render(JsonElement messages, bool addGenerationPrompt, JsonElement? tools = null) =>
        RenderValues(TemplateValues.FromJson(messages), addGenerationPrompt, tools is { } schema ? TemplateValues.FromJson(schema) : null).Text;

    (string Text, IReadOnlyList<Range> GenerationSpans) RenderValues(object? messages, bool addGenerationPrompt, object? tools)
    {
        var variables = new Dictionary<string, object?>(SpecialTokens)
        {
            ["messages"] = messages, ["tools"] = tools, ["documents"] = null, ["add_generation_prompt"] = addGenerationPrompt,
        };
        return Template.RenderWithGenerationSpans(variables);
    }

    /// <summary>
    /// The whole conversation (no generation prompt) and where each assistant message's turn is in it, for training on the
    /// assistant's text only. A template with "{% generation %}" blocks marks the turns itself (as for transformers'
    /// return_assistant_tokens_mask). Otherwise the turn of assistant message i starts where the rendering of the messages
    /// before it plus the generation prompt stops agreeing with the rendering up to it, and ends where that stops agreeing
    /// with the whole conversation: it covers the reply and what the template closes it with (e.g. "&lt;|im_end|&gt;").
    /// </summary>
    public RenderedChat RenderWithAssistantSpans(IReadOnlyList<ChatTurn> messages)
    {
        var (full, generation) = RenderValues(Values(messages), addGenerationPrompt: false, tools: null);
        if (generation.Count > 0) return new RenderedChat(full, generation);
        var spans = new List<Range>();
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role != "assistant") continue;
            if (i == 0) throw new RlhfException($"{Template.Name}: assistant message #1 has no prompt before it");
            string prompt = Render([.. messages.Take(i)], addGenerationPrompt: true);
            string upToTurn = Render([.. messages.Take(i + 1)], addGenerationPrompt: false);
            int start = CommonPrefixLength(prompt, upToTurn), end = CommonPrefixLength(upToTurn, full);
            string reply = messages[i].Content.Trim();
            if (end < start || !full.AsSpan(start, end - start).Contains(reply, StringComparison.Ordinal))
                throw new RlhfException($"{Template.Name}: cannot find assistant message #{i + 1} in the rendering (the template renders earlier " +
                    "turns differently once later ones follow)");
            spans.Add(new Range(start, end));
        }
        return new RenderedChat(full, spans);
    }

    static int CommonPrefixLength(string a, string b) => a.AsSpan().CommonPrefixLength(b);

    static List<object?> Values(IReadOnlyList<ChatTurn> messages) =>
        messages.Select(m => TemplateValues.From(new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content })).ToList();

    /// <summary>
    /// The chat template of a Hugging Face model folder, as transformers loads it: chat_template.jinja when present (it
    /// wins), else tokenizer_config.json's "chat_template" (a string, or a list of {"name", "template"} of which "default"
    /// is used). Special tokens come from tokenizer_config.json, overridden by special_tokens_map.json (each a string or an
    /// object with "content"). Null when the folder has no chat template.
    /// </summary>
    public static ChatTemplateRenderer? FromModelDirectory(string directory)
    {
        var config = TokenizerFile.ReadJsonIfExists(directory, "tokenizer_config.json");
        var specialTokens = ReadSpecialTokens(directory, config);
        string templateFile = Path.Combine(directory, "chat_template.jinja");
        if (File.Exists(templateFile)) return new ChatTemplateRenderer(File.ReadAllText(templateFile), specialTokens, templateFile);
        if (config is not var (path, root) || TokenizerFile.Field(root, "chat_template") is not { } template) return null;
        string name = $"{path} chat_template";
        return template.ValueKind switch
        {
            JsonValueKind.String => new ChatTemplateRenderer(template.GetString()!, specialTokens, name),
            JsonValueKind.Array => new ChatTemplateRenderer(DefaultOfNamed(template, path), specialTokens, $"{name} 'default'"),
            _ => throw TokenizerFile.Error(path, "chat_template", "must be a string or a list of {\"name\", \"template\"}"),
        };
    }

    static string DefaultOfNamed(JsonElement templates, string path)
    {
        var names = new List<string>();
        foreach (var entry in templates.EnumerateArray())
        {
            if (TokenizerFile.StringField(entry, "name") is not { } name || TokenizerFile.StringField(entry, "template") is not { } text)
                throw TokenizerFile.Error(path, "chat_template", "entries must be objects with string \"name\" and \"template\"");
            if (name == "default") return text;
            names.Add(name);
        }
        throw TokenizerFile.Error(path, "chat_template", $"has no template named \"default\" (it has {string.Join(", ", names.Select(n => $"\"{n}\""))})");
    }

    static Dictionary<string, object?> ReadSpecialTokens(string directory, (string Path, JsonElement Root)? config)
    {
        var tokens = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var file in new[] { config, TokenizerFile.ReadJsonIfExists(directory, "special_tokens_map.json") })
        {
            if (file is not var (path, root)) continue;
            foreach (string name in SpecialTokenNames)
            {
                if (TokenizerFile.Field(root, name) is not { } value) continue;
                tokens[name] = name == "additional_special_tokens"
                    ? value.ValueKind == JsonValueKind.Array
                        ? value.EnumerateArray().Select(v => (object?)TokenText(v, path, name)).ToList()
                        : throw TokenizerFile.Error(path, name, "must be a list")
                    : TokenText(value, path, name);
            }
        }
        return tokens;
    }

    static string TokenText(JsonElement value, string path, string field) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Object when TokenizerFile.StringField(value, "content") is { } content => content,
        _ => throw TokenizerFile.Error(path, field, "must be a string or an object with \"content\""),
    };
}
