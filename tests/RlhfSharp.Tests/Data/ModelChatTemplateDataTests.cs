using System.Text.Json.Nodes;
using RlhfSharp.Data;
using RlhfSharp.Templating;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Data;

/// <summary>Chat rows rendered with a model's own chat template (Qwen2.5-Instruct's), and with HH for a model without one.</summary>
public sealed class ModelChatTemplateDataTests : IDisposable
{
    static readonly string TokenizerDir = QwenChatFolder.Tokenizer();
    static readonly ITextTokenizer Tokenizer = TokenizerLoader.FromDirectory(TokenizerDir)!;
    static readonly ReadOptions WithTemplate = new() { ModelTemplate = ChatTemplateRenderer.FromModelDirectory(TokenizerDir) };
    const string QwenSystem = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";

    readonly DataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    static JsonArray Messages(params (string Role, string Content)[] messages) => new([.. messages.Select(m => (JsonNode)Message(m.Role, m.Content))]);

    static readonly JsonArray TwoTurnChat = Messages(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!"), ("user", "Name a color."), ("assistant", "Blue."));

    [Fact]
    public void Sft_with_the_model_template_trains_on_every_assistant_turn_and_its_closing_only()
    {
        string path = _folder.WriteJsonLines("chat.jsonl", new JsonObject { ["messages"] = TwoTurnChat.DeepClone() });
        const string beforeFirst = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        const string first = "Hello!<|im_end|>\n", between = "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n", second = "Blue.<|im_end|>\n";

        var example = Assert.Single(DatasetReader.ReadSft(path, WithTemplate).Examples);
        var encoded = new ExampleEncoder(Tokenizer).EncodeSft(example, maxLength: 512);

        Assert.Equal((beforeFirst, first + between + second), (example.Prompt, example.Completion));
        int[] ignored(string text) => Enumerable.Repeat(ExampleEncoder.IgnoreLabel, Tokenizer.Encode(text).Count).ToArray();
        Assert.Equal([.. ignored(beforeFirst), .. Tokenizer.Encode(first), .. ignored(between), .. Tokenizer.Encode(second)], encoded.Labels);
        // Segment by segment is here the same as the whole text at once; the special tokens are single ids, and no EOS is added.
        Assert.Equal(Tokenizer.Encode(beforeFirst + first + between + second), encoded.InputIds);
        int[] systemTurn = [QwenChatFolder.ImStart, .. Tokenizer.Encode("system\nBe brief."), QwenChatFolder.ImEnd];
        Assert.Equal(systemTurn, encoded.InputIds[..systemTurn.Length]);
        Assert.Equal([.. Tokenizer.Encode("Blue."), QwenChatFolder.ImEnd, .. Tokenizer.Encode("\n")], encoded.Labels[^4..]);
        Assert.Equal(Tokenizer.Encode(beforeFirst).Count, encoded.PromptLength);
    }

    [Fact]
    public void Sft_without_a_model_template_still_renders_hh_and_trains_on_the_last_reply()
    {
        string path = _folder.WriteJsonLines("chat.jsonl", new JsonObject { ["messages"] = TwoTurnChat.DeepClone() });

        var example = Assert.Single(DatasetReader.ReadSft(path).Examples);

        Assert.Equal(new SftExample("Be brief.\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Name a color.\n\nAssistant:", " Blue."), example);
        Assert.Null(example.Segments);
    }

    [Fact]
    public void Chat_preference_pairs_render_with_the_template_and_responses_end_before_its_eos_text()
    {
        // TRL's two conversational layouts: whole conversations, or a chat prompt and replies (a message list or text).
        string conversations = _folder.WriteJsonLines("conversations.jsonl",
            new JsonObject { ["chosen"] = Messages(("user", "Hi"), ("assistant", "Hello!")), ["rejected"] = Messages(("user", "Hi"), ("assistant", "Go away.")) });
        string prompted = _folder.WriteJsonLines("prompted.jsonl",
            new JsonObject { ["prompt"] = Messages(("user", "Name a color.")), ["chosen"] = Messages(("assistant", "Blue.")), ["rejected"] = "Seven." });
        IEnumerable<PreferencePair> Read(ReadOptions? options) =>
            DatasetReader.ReadPreferences(conversations, options).Examples.Concat(DatasetReader.ReadPreferences(prompted, options).Examples);

        var withTemplate = Read(WithTemplate);
        var hh = Read(null);

        Assert.Equal([
            new PreferencePair(QwenSystem + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "Hello!", "Go away."),
            new PreferencePair(QwenSystem + "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n", "Blue.", "Seven."),
        ], withTemplate);
        Assert.Equal([new PreferencePair("\n\nHuman: Hi\n\nAssistant:", " Hello!", " Go away."), new PreferencePair("\n\nHuman: Name a color.\n\nAssistant:", " Blue.", " Seven.")], hh);
    }

    [Fact]
    public void Chat_pairs_that_differ_before_their_last_message_are_bad_rows()
    {
        string path = _folder.WriteJsonLines("pairs.jsonl",
            new JsonObject { ["chosen"] = Messages(("user", "Hi"), ("assistant", "Hello!")), ["rejected"] = Messages(("user", "Yo"), ("assistant", "Go away.")) });

        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadPreferences(path, WithTemplate));

        Assert.Equal($"{path}:1: \"chosen\" and \"rejected\" differ before their last message", error.Message);
    }

    [Fact]
    public void Chat_prompts_render_with_the_generation_prompt_and_a_conversation_is_cut_before_its_last_reply()
    {
        string path = _folder.WriteJsonLines("prompts.jsonl",
            new JsonObject { ["prompt"] = Messages(("system", "Be brief."), ("user", "Hi")) },
            new JsonObject { ["prompt"] = "plain text" });
        string conversations = _folder.WriteJsonLines("chats.jsonl", new JsonObject { ["messages"] = TwoTurnChat.DeepClone() });

        Assert.Equal(["<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "plain text"],
            DatasetReader.ReadPrompts(path, WithTemplate).Examples);
        Assert.Equal(["<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n" +
            "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n"], DatasetReader.ReadPrompts(conversations, WithTemplate).Examples);
        Assert.Equal(["Be brief.\n\nHuman: Hi\n\nAssistant:", "plain text"], DatasetReader.ReadPrompts(path).Examples);
    }

    [Fact]
    public void A_template_error_on_a_row_is_a_bad_row_that_can_be_skipped()
    {
        // Mistral's template raises for roles that do not alternate.
        var mistral = new ChatTemplateRenderer(File.ReadAllText(TestPaths.Shared("chat-templates", "mistral-instruct.jinja")),
            new Dictionary<string, object?> { ["bos_token"] = "<s>", ["eos_token"] = "</s>" }, "mistral.jinja");
        string path = _folder.WriteJsonLines("chat.jsonl",
            new JsonObject { ["messages"] = Messages(("user", "Hi"), ("user", "Again"), ("assistant", "Hello!")) },
            new JsonObject { ["messages"] = Messages(("user", "Hi"), ("assistant", "Hello!")) });

        var read = DatasetReader.ReadSft(path, new ReadOptions { ModelTemplate = mistral, SkipBadRows = true });
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadSft(path, new ReadOptions { ModelTemplate = mistral }));

        Assert.Equal((1, 1), (read.Examples.Count, read.SkippedRows));
        Assert.StartsWith($"{path}:1: mistral.jinja line ", error.Message);
    }

    [Fact]
    public void A_template_that_writes_the_bos_token_gets_no_second_one_and_its_special_tokens_are_single_ids()
    {
        // Llama 3's template starts with bos_token; its tokenizer.json post-processor would add one more, which encoding must not.
        using var dir = new Tokenization.TempModelDirectory();
        var json = Tokenization.TokenizerJsonFiles.Gpt2With(null, Tokenization.TokenizerJsonFiles.SplitThenByteLevel(Tokenization.TokenizerJsonFiles.Llama3Pattern));
        string[] specials = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];
        json["added_tokens"] = new JsonArray([.. specials.Select((text, i) => (JsonNode)Tokenization.TokenizerJsonFiles.AddedToken(50257 + i, text))]);
        json["post_processor"] = JsonNode.Parse("""
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [50257], "tokens": ["<|begin_of_text|>"]}}}
            """);
        dir.Write("tokenizer.json", json);
        dir.Write("tokenizer_config.json", new JsonObject
        {
            ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>",
            ["chat_template"] = File.ReadAllText(TestPaths.Shared("chat-templates", "llama-3-instruct.jinja")),
        });
        var tokenizer = TokenizerLoader.FromDirectory(dir.Path)!;
        string path = _folder.WriteJsonLines("chat.jsonl", new JsonObject { ["messages"] = Messages(("user", "Hi"), ("assistant", "Hello!")) });

        var example = Assert.Single(DatasetReader.ReadSft(path, ReadOptions.ForModel(dir.Path, skipBadRows: false)).Examples);
        var encoded = new ExampleEncoder(tokenizer).EncodeSft(example, maxLength: 512);

        Assert.Equal(1, encoded.InputIds.Count(id => id == 50257));
        Assert.Equal(50257, encoded.InputIds.SkipWhile(id => id != 50257).First());
        Assert.Equal(Tokenizer.Encode("\n")[0], encoded.InputIds[0]);
        Assert.Equal([2, 2, 2], [.. new[] { 50258, 50259, 50260 }.Select(id => encoded.InputIds.Count(t => t == id))]);
        Assert.Equal([.. tokenizer.Encode("Hello!"), 50260], encoded.Labels.Where(label => label != ExampleEncoder.IgnoreLabel).Take(3));
    }

    [Fact]
    public void A_model_template_the_engine_refuses_stops_only_chat_rows_not_a_read_of_plain_rows()
    {
        string modelDir = TestPaths.NewTempDirectory("unsupported-template");
        File.WriteAllText(Path.Combine(modelDir, "tokenizer_config.json"),
            new JsonObject { ["chat_template"] = "{% for m in messages %}\n{{ m.content | nosuchfilter }}{% endfor %}" }.ToJsonString());
        string plain = _folder.WriteJsonLines("plain.jsonl", new JsonObject { ["prompt"] = "Q", ["completion"] = " A" });
        string chat = _folder.WriteJsonLines("chat.jsonl", new JsonObject { ["messages"] = Messages(("user", "Hi"), ("assistant", "Hello!")) });

        var example = Assert.Single(DatasetReader.ReadSft(plain, ReadOptions.ForModel(modelDir, skipBadRows: false)).Examples);
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadSft(chat, ReadOptions.ForModel(modelDir, skipBadRows: false)));

        Assert.Equal(("Q", " A"), (example.Prompt, example.Completion));
        Assert.Contains("chat_template line 2: no filter named 'nosuchfilter'", error.Message, StringComparison.Ordinal);
    }
}
