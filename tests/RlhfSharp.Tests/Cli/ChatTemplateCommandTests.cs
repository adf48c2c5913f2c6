using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Tests.Templating;
using RlhfSharp.Tests.Tokenization;

namespace RlhfSharp.Tests.Cli;

/// <summary>`rlhf chat-template render`: the rendering exactly, from a template file or a model folder, and its one-line errors.</summary>
public sealed class ChatTemplateCommandTests : IDisposable
{
    readonly TempModelDirectory _dir = new();
    readonly string _scratch = TestPaths.NewTempDirectory("chat-template");

    public void Dispose() => _dir.Dispose();

    string WriteFile(string name, string text)
    {
        string path = Path.Combine(_scratch, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The recorded case's messages as a --messages file.</summary>
    string MessagesFile(JsonElement testCase) => WriteFile("messages.json", testCase.GetProperty("messages").GetRawText());

    static JsonElement UnicodeCase(string template, bool prompt) => ChatTemplateCases.Cases(template).EnumerateArray()
        .First(c => c.GetProperty("conversation").GetString() == "whitespace-and-unicode" && c.GetProperty("add_generation_prompt").GetBoolean() == prompt);

    [Fact]
    public void A_template_file_renders_exactly_with_the_given_tokens()
    {
        var testCase = UnicodeCase("zephyr", prompt: true);

        var result = CliRunner.Run("chat-template", "render", "--template", ChatTemplateCases.TemplatePath("zephyr"), "--messages", MessagesFile(testCase),
            "--add-generation-prompt", "--bos-token", "<s>", "--eos-token", "</s>");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(testCase.GetProperty("expected").GetString(), result.Output);
    }

    [Fact]
    public void A_model_folder_gives_its_template_and_special_tokens()
    {
        var testCase = UnicodeCase("mistral-instruct", prompt: false);
        _dir.Write("tokenizer_config.json", new JsonObject
        {
            ["chat_template"] = File.ReadAllText(ChatTemplateCases.TemplatePath("mistral-instruct")),
            ["bos_token"] = new JsonObject { ["content"] = "<s>" }, ["eos_token"] = "</s>",
        });

        var result = CliRunner.Run("chat-template", "render", "--model", _dir.Path, "--messages", MessagesFile(testCase));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(testCase.GetProperty("expected").GetString(), result.Output);
    }

    [Fact]
    public void Token_options_override_the_model_tokens()
    {
        _dir.Write("tokenizer_config.json", new JsonObject { ["chat_template"] = "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}", ["bos_token"] = "<s>", ["eos_token"] = "</s>" });
        string messages = WriteFile("m.json", """[{"role": "user", "content": "x"}]""");

        var result = CliRunner.Run("chat-template", "render", "--model", _dir.Path, "--messages", messages, "--eos-token", "<|end|>");

        Assert.Equal("<s>x<|end|>", result.Output);
    }

    [Fact]
    public void Tools_in_a_messages_object_reach_the_template()
    {
        var testCase = ChatTemplateCases.Case("qwen2.5-instruct", 0);
        const string tools = """[{"type": "function", "function": {"name": "now"}}]""";
        string messages = WriteFile("chat.json", $"{{\"messages\": {testCase.GetProperty("messages").GetRawText()}, \"tools\": {tools}}}");

        var result = CliRunner.Run("chat-template", "render", "--template", ChatTemplateCases.TemplatePath("qwen2.5-instruct"), "--messages", messages);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"now\"}}\n</tools>", result.Output);
    }

    [Fact]
    public void The_script_writes_the_rendering_to_stdout_byte_for_byte()
    {
        var testCase = UnicodeCase("chatml", prompt: true);

        var result = CliRunner.RunScript("chat-template", "render", "--template", ChatTemplateCases.TemplatePath("chatml"), "--messages", MessagesFile(testCase),
            "--add-generation-prompt", "--bos-token", "<s>");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(testCase.GetProperty("expected").GetString(), result.Output);
    }

    [Fact]
    public void A_model_folder_without_a_chat_template_says_to_give_one()
    {
        _dir.Write("tokenizer_config.json", """{"bos_token": "<s>"}""");
        string messages = WriteFile("m.json", """[{"role": "user", "content": "x"}]""");

        var result = CliRunner.Run("chat-template", "render", "--model", _dir.Path, "--messages", messages);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {_dir.Path}: no chat template (no chat_template.jinja, and tokenizer_config.json has no \"chat_template\"); give one with --template FILE",
            result.Error.Trim());
        Assert.Equal("", result.Output);
    }

    public static TheoryData<string, string> BadMessageFiles() => new()
    {
        { "[{\"role\": \"user\", \"content\": \"a\"},\n {\"role\": \"user\" \"content\": \"b\"}]", "{file}:2: not valid JSON: '\"' is invalid after a value. Expected either ',', '}', or ']'." },
        { """[{"role": "user", "content": "a"}, {"content": "b"}]""", "{file}: messages[1] has no string \"role\"" },
        { """[{"role": "user"}]""", "{file}: messages[0] has no \"content\"" },
        { """["hello"]""", "{file}: messages[0] is not an object" },
        { """{"turns": []}""", "{file}: an object needs a \"messages\" list" },
        { "42", "{file}: expected a list of messages [{\"role\": ..., \"content\": ...}, ...]" },
    };

    [Theory]
    [MemberData(nameof(BadMessageFiles))]
    public void A_bad_messages_file_is_a_one_line_error_naming_it(string content, string expected)
    {
        string messages = WriteFile("bad.json", content);

        var result = CliRunner.Run("chat-template", "render", "--template", ChatTemplateCases.TemplatePath("chatml"), "--messages", messages);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: " + expected.Replace("{file}", messages), result.Error.Trim());
    }

    [Fact]
    public void Missing_files_and_folders_are_named()
    {
        string messages = WriteFile("m.json", """[{"role": "user", "content": "x"}]""");
        string nowhere = Path.Combine(_scratch, "nowhere");

        Assert.Equal($"error: option --template is {nowhere}: file does not exist",
            CliRunner.Run("chat-template", "render", "--template", nowhere, "--messages", messages).Error.Trim());
        Assert.Equal($"error: option --model is {nowhere}: folder does not exist",
            CliRunner.Run("chat-template", "render", "--model", nowhere, "--messages", messages).Error.Trim());
        Assert.Equal($"error: option --messages is {nowhere}: file does not exist",
            CliRunner.Run("chat-template", "render", "--template", ChatTemplateCases.TemplatePath("chatml"), "--messages", nowhere).Error.Trim());
    }

    [Fact]
    public void Exactly_one_template_source_is_needed()
    {
        string messages = WriteFile("m.json", """[{"role": "user", "content": "x"}]""");

        var neither = CliRunner.Run("chat-template", "render", "--messages", messages);
        var both = CliRunner.Run("chat-template", "render", "--model", _dir.Path, "--template", ChatTemplateCases.TemplatePath("chatml"), "--messages", messages);

        Assert.All(new[] { neither, both }, result => Assert.Equal("error: give exactly one of --model or --template", result.Error.Trim()));
    }

    [Fact]
    public void A_typo_in_the_subcommand_suggests_render()
    {
        var result = CliRunner.Run("chat-template", "rendr", "--help");

        Assert.Equal("error: unknown command 'chat-template rendr' (did you mean 'chat-template render'?)", result.Error.Trim());
    }

    [Fact]
    public void Template_errors_name_the_template_file_and_line()
    {
        string template = WriteFile("t.jinja", "{% for m in messages %}\n{{ m.content | shout }}\n{% endfor %}");
        string raising = WriteFile("r.jinja", "{% if messages | length > 1 %}\n{{ raise_exception('only one message, please') }}\n{% endif %}");
        string messages = WriteFile("m.json", """[{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]""");

        var unknownFilter = CliRunner.Run("chat-template", "render", "--template", template, "--messages", messages);
        var raised = CliRunner.Run("chat-template", "render", "--template", raising, "--messages", messages);

        Assert.Equal($"error: {template} line 2: no filter named 'shout' (not supported)", unknownFilter.Error.Trim());
        Assert.Equal($"error: {raising} line 2: only one message, please (raised by the template)", raised.Error.Trim());
        Assert.Equal(1, raised.ExitCode);
    }
}
