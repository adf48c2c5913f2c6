using System.CommandLine;
using System.Text.Json;
using RlhfSharp.Templating;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf chat-template render`: a conversation through a model's chat template, printed exactly as the model would be fed
/// it (nothing added, not even a final newline), so a user can see what training and generation use.
/// </summary>
internal static class ChatTemplateCommand
{
    static readonly Option<string?> Model = new("--model")
    {
        Description = "Hugging Face model directory: its chat_template.jinja, else tokenizer_config.json's chat_template, and its special tokens",
    };
    static readonly Option<string?> Template = new("--template") { Description = "a Jinja chat template file (instead of --model)" };
    static readonly Option<string> Messages = new("--messages")
    {
        Description = "JSON file: [{\"role\": ..., \"content\": ...}, ...], or an object with \"messages\" (and optional \"tools\")",
        Required = true,
    };
    static readonly Option<bool> AddGenerationPrompt = new("--add-generation-prompt") { Description = "end with what starts the assistant's reply" };
    static readonly Option<string?> BosToken = new("--bos-token") { Description = "bos_token for the template (overrides the model's)" };
    static readonly Option<string?> EosToken = new("--eos-token") { Description = "eos_token for the template (overrides the model's)" };

    public static Command Build()
    {
        var group = new Command("chat-template", "Chat templates (Jinja, rendered as transformers' apply_chat_template).");
        var render = new Command("render", "Print a conversation exactly as a model's chat template renders it (no newline added).");
        foreach (var option in new Option[] { Model, Template, Messages, AddGenerationPrompt, BosToken, EosToken }) render.Options.Add(option);
        render.SetAction(Render);
        group.Subcommands.Add(render);
        return group;
    }

    static int Render(ParseResult parsed)
    {
        string? modelDir = parsed.GetValue(Model), templateFile = parsed.GetValue(Template);
        if ((modelDir is null) == (templateFile is null)) throw new RlhfException("give exactly one of --model or --template");
        var (messages, tools) = ReadConversation(parsed.GetValue(Messages)!);

        var renderer = modelDir is not null ? FromModel(InputChecks.ModelFolder(parsed, Model.Name, modelDir)) : FromFile(templateFile!);
        var tokens = new Dictionary<string, object?>();
        if (parsed.GetValue(BosToken) is { } bos) tokens["bos_token"] = bos;
        if (parsed.GetValue(EosToken) is { } eos) tokens["eos_token"] = eos;
        renderer = renderer.WithSpecialTokens(tokens);

        string text = renderer.Render(messages, parsed.GetValue(AddGenerationPrompt), tools);
        var output = parsed.InvocationConfiguration.Output;
        output.Write(text);
        output.Flush();
        return 0;
    }

    static ChatTemplateRenderer FromModel(string modelDir) =>
        ChatTemplateRenderer.FromModelDirectory(modelDir)
        ?? throw new RlhfException($"{modelDir}: no chat template (no chat_template.jinja, and tokenizer_config.json has no \"chat_template\"); " +
            "give one with --template FILE");

    static ChatTemplateRenderer FromFile(string templateFile)
    {
        if (!File.Exists(templateFile)) throw new RlhfException(InvalidOptionException.Describe(Template.Name, templateFile, "file does not exist"));
        return new ChatTemplateRenderer(File.ReadAllText(templateFile), new Dictionary<string, object?>(), templateFile);
    }

    /// <summary>The messages (and tools) of a --messages file, each message checked for a string role and a content.</summary>
    static (JsonElement Messages, JsonElement? Tools) ReadConversation(string path)
    {
        if (!File.Exists(path)) throw new RlhfException(InvalidOptionException.Describe(Messages.Name, path, "file does not exist"));
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            string reason = e.Message.Split(" LineNumber:")[0].ReplaceLineEndings(" ");
            throw new RlhfException($"{path}:{e.LineNumber + 1}: not valid JSON: {reason}", e);
        }

        JsonElement? tools = null;
        var messages = root;
        if (root.ValueKind == JsonValueKind.Object)
        {
            if (!root.TryGetProperty("messages", out messages)) throw new RlhfException($"{path}: an object needs a \"messages\" list");
            if (root.TryGetProperty("tools", out var given) && given.ValueKind != JsonValueKind.Null) tools = given;
        }
        if (messages.ValueKind != JsonValueKind.Array) throw new RlhfException($"{path}: expected a list of messages [{{\"role\": ..., \"content\": ...}}, ...]");
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"{path}: messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object) throw new RlhfException($"{at} is not an object");
            if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String) throw new RlhfException($"{at} has no string \"role\"");
            if (!message.TryGetProperty("content", out _)) throw new RlhfException($"{at} has no \"content\"");
        }
        return (messages, tools);
    }
}
