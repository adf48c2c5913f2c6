using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Templating;
using RlhfSharp.Tests.Tokenization;

namespace RlhfSharp.Tests.Templating;

/// <summary>ChatTemplateRenderer: templates and special tokens from a model folder as transformers loads them, and assistant spans.</summary>
public sealed class ChatTemplateRendererTests : IDisposable
{
    readonly TempModelDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    static readonly List<ChatTurn> Chat = [new("user", "Hi"), new("assistant", "Hello!")];

    const string Echo = "{{ bos_token }}|{% for m in messages %}{{ m.role }}:{{ m.content }}{{ eos_token }}{% endfor %}";

    [Fact]
    public void A_folder_without_a_chat_template_has_none()
    {
        _dir.Write("tokenizer_config.json", """{"bos_token": "<s>"}""");

        Assert.Null(ChatTemplateRenderer.FromModelDirectory(_dir.Path));
        Assert.Null(ChatTemplateRenderer.FromModelDirectory(TestPaths.NewTempDirectory()));
    }

    [Fact]
    public void The_config_template_renders_with_the_special_tokens_as_strings_or_added_token_objects()
    {
        _dir.Write("tokenizer_config.json", new JsonObject
        {
            ["chat_template"] = Echo, ["bos_token"] = "<s>", ["eos_token"] = new JsonObject { ["content"] = "</s>", ["special"] = true },
            ["pad_token"] = null,
        });

        var renderer = ChatTemplateRenderer.FromModelDirectory(_dir.Path)!;

        Assert.Equal("<s>|user:Hi</s>assistant:Hello!</s>", renderer.Render(Chat, addGenerationPrompt: false));
        Assert.Equal(["bos_token", "eos_token"], renderer.SpecialTokens.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"{Path.Combine(_dir.Path, "tokenizer_config.json")} chat_template", renderer.Template.Name);
    }

    [Fact]
    public void Special_tokens_map_overrides_the_config_as_in_transformers()
    {
        _dir.Write("tokenizer_config.json", new JsonObject { ["chat_template"] = Echo, ["bos_token"] = "<old>", ["eos_token"] = "</s>" });
        _dir.Write("special_tokens_map.json", """{"bos_token": {"content": "<new>", "lstrip": false}}""");

        Assert.Equal("<new>|user:Hi</s>assistant:Hello!</s>", ChatTemplateRenderer.FromModelDirectory(_dir.Path)!.Render(Chat, false));
    }

    [Fact]
    public void A_token_the_model_does_not_declare_is_undefined_and_prints_nothing()
    {
        _dir.Write("tokenizer_config.json", new JsonObject { ["chat_template"] = Echo + "{{ 'no unk' if unk_token is undefined }}" });

        Assert.Equal("|user:Hiassistant:Hello!no unk", ChatTemplateRenderer.FromModelDirectory(_dir.Path)!.Render(Chat, false));
    }

    [Fact]
    public void Of_named_templates_the_default_one_is_used()
    {
        _dir.Write("tokenizer_config.json", new JsonObject
        {
            ["chat_template"] = new JsonArray(
                new JsonObject { ["name"] = "tool_use", ["template"] = "tools!" },
                new JsonObject { ["name"] = "default", ["template"] = "default {{ messages | length }}" }),
        });

        Assert.Equal("default 2", ChatTemplateRenderer.FromModelDirectory(_dir.Path)!.Render(Chat, false));
    }

    [Fact]
    public void Named_templates_without_a_default_are_an_error_listing_them()
    {
        string config = _dir.Write("tokenizer_config.json", """{"chat_template": [{"name": "tool_use", "template": "x"}, {"name": "rag", "template": "y"}]}""");

        var error = Assert.Throws<RlhfException>(() => ChatTemplateRenderer.FromModelDirectory(_dir.Path));

        Assert.Equal($"{config}: chat_template has no template named \"default\" (it has \"tool_use\", \"rag\")", error.Message);
    }

    [Fact]
    public void A_chat_template_jinja_file_wins_over_the_config()
    {
        _dir.Write("tokenizer_config.json", new JsonObject { ["chat_template"] = "from the config", ["bos_token"] = "<s>" });
        string file = _dir.Write("chat_template.jinja", "from the file {{ bos_token }}\n");

        var renderer = ChatTemplateRenderer.FromModelDirectory(_dir.Path)!;

        Assert.Equal("from the file <s>", renderer.Render(Chat, false));
        Assert.Equal(file, renderer.Template.Name);
    }

    [Fact]
    public void A_trained_model_folder_keeps_the_chat_template_file_of_its_source()
    {
        // Training writes the source's tokenizer files beside the new weights; the chat template file must travel with them.
        _dir.Write("tokenizer_config.json", new JsonObject { ["chat_template"] = "stale config template" });
        _dir.Write("chat_template.jinja", "file template");
        string trained = TestPaths.NewTempDirectory("trained");

        RlhfSharp.Models.PretrainedWeights.CopyTokenizerFiles(_dir.Path, trained);

        Assert.Equal("file template", ChatTemplateRenderer.FromModelDirectory(trained)!.Render(Chat, false));
    }

    [Fact]
    public void A_chat_template_of_the_wrong_type_is_an_error_naming_the_file()
    {
        string config = _dir.Write("tokenizer_config.json", """{"chat_template": 42}""");

        var error = Assert.Throws<RlhfException>(() => ChatTemplateRenderer.FromModelDirectory(_dir.Path));

        Assert.Equal($"{config}: chat_template must be a string or a list of {{\"name\", \"template\"}}", error.Message);
    }

    [Fact]
    public void A_template_syntax_error_names_the_config_and_line()
    {
        string config = _dir.Write("tokenizer_config.json", new JsonObject { ["chat_template"] = "ok\n{% if %}" });

        var error = Assert.Throws<TemplateException>(() => ChatTemplateRenderer.FromModelDirectory(_dir.Path));

        Assert.Equal($"{config} chat_template line 2: expected an expression, got end of statement block", error.Message);
    }

    [Fact]
    public void Tools_reach_the_template_and_are_none_when_not_given()
    {
        var renderer = new ChatTemplateRenderer("{{ tools is none }} {% for t in tools or [] %}{{ t.function.name }}{% endfor %}", new Dictionary<string, object?>());
        var messages = JsonDocument.Parse("[]").RootElement;
        var tools = JsonDocument.Parse("""[{"type": "function", "function": {"name": "lookup"}}]""").RootElement;

        Assert.Equal("True ", renderer.Render(messages, addGenerationPrompt: false));
        Assert.Equal("False lookup", renderer.Render(messages, addGenerationPrompt: false, tools));
    }

    public static TheoryData<string> Templates() => [.. ChatTemplateCases.Templates];

    [Theory]
    [MemberData(nameof(Templates))]
    public void Assistant_spans_cover_each_reply_and_its_closing_in_the_whole_rendering(string template)
    {
        var testCase = ChatTemplateCases.Cases(template).EnumerateArray().First(c => c.GetProperty("conversation").GetString() == "system-and-two-turns");
        var renderer = ChatTemplateCases.Renderer(template, testCase);
        List<ChatTurn> turns = [.. ChatTemplateCases.Turns(testCase), new("assistant", "  2 is even. "), new("user", "Thanks"), new("assistant", "Bye")];

        var rendered = renderer.RenderWithAssistantSpans(turns);

        Assert.Equal(renderer.Render(turns, addGenerationPrompt: false), rendered.Text);
        Assert.Equal(3, rendered.AssistantSpans.Count);
        var replies = rendered.AssistantSpans.Select(span => rendered.Text[span]).ToList();
        Assert.Contains("7 is prime.", replies[0]);
        Assert.Contains("2 is even.", replies[1]);
        Assert.Contains("Bye", replies[2]);
        // Spans are in order, do not overlap, and leave out every user turn.
        for (int i = 1; i < replies.Count; i++) Assert.True(rendered.AssistantSpans[i].Start.Value >= rendered.AssistantSpans[i - 1].End.Value);
        Assert.All(replies, reply => Assert.DoesNotContain("Thanks", reply));
    }

    [Fact]
    public void Assistant_spans_of_qwen_are_the_reply_and_its_im_end()
    {
        var testCase = ChatTemplateCases.Case("qwen2.5-instruct", 0);
        var renderer = ChatTemplateCases.Renderer("qwen2.5-instruct", testCase);

        var rendered = renderer.RenderWithAssistantSpans([new("user", "Hi"), new("assistant", "Hello!"), new("user", "Bye"), new("assistant", "See you")]);

        Assert.Equal(["Hello!<|im_end|>\n", "See you<|im_end|>\n"], rendered.AssistantSpans.Select(span => rendered.Text[span]));
    }

    [Fact]
    public void Generation_blocks_give_the_assistant_spans_when_the_template_has_them()
    {
        var renderer = new ChatTemplateRenderer(
            "{% for m in messages %}[{{ m.role }}]{% if m.role == 'assistant' %}{% generation %}{{ m.content }};{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}",
            new Dictionary<string, object?>());

        var rendered = renderer.RenderWithAssistantSpans(Chat);

        Assert.Equal("[user]Hi[assistant]Hello!;", rendered.Text);
        Assert.Equal(["Hello!;"], rendered.AssistantSpans.Select(span => rendered.Text[span]));
    }

    [Fact]
    public void A_template_that_rewrites_earlier_turns_cannot_give_assistant_spans()
    {
        // Each reply is printed only while it is the last message (as reasoning templates drop old thoughts).
        var renderer = new ChatTemplateRenderer(
            "{% for m in messages %}{% if m.role == 'user' or loop.last %}{{ m.role }}: {{ m.content }}\n{% endif %}{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}",
            new Dictionary<string, object?>(), "reasoning.jinja");

        var error = Assert.Throws<RlhfException>(() => renderer.RenderWithAssistantSpans([new("user", "a"), new("assistant", "first"), new("user", "b"), new("assistant", "second")]));

        Assert.Equal("reasoning.jinja: cannot find assistant message #2 in the rendering (the template renders earlier turns differently once later ones follow)", error.Message);
    }
}
