using System.Text.Json.Nodes;
using RlhfSharp.Data;

namespace RlhfSharp.Tests.Data;

/// <summary>Prompt/completion and chat-message SFT files, and the rendering of chats by templates.</summary>
public sealed class SftReaderTests : IDisposable
{
    readonly DataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    static JsonObject Chat(params JsonObject[] messages) => new() { ["messages"] = new JsonArray(messages) };

    [Fact]
    public void Prompt_completion_keeps_text_as_is()
    {
        string path = _folder.WriteJsonLines("sft.jsonl",
            new JsonObject { ["prompt"] = "Translate: cat\n", ["completion"] = " chat" },
            new JsonObject { ["prompt"] = "2 + 2 =", ["completion"] = "4", ["source"] = "extra fields are ignored" });

        var result = DatasetReader.ReadSft(path);

        Assert.Equal([new SftExample("Translate: cat\n", " chat"), new SftExample("2 + 2 =", "4")], result.Examples);
    }

    [Fact]
    public void Messages_use_the_Hh_template_by_default()
    {
        string path = _folder.WriteJsonLines("chat.jsonl",
            Chat(Message("user", "Hi"), Message("assistant", "Hello!")),
            Chat(Message("system", "Be brief."), Message("user", "Hi"), Message("assistant", "Hello!"),
                Message("user", "Name a color."), Message("assistant", "Blue.")));

        var result = DatasetReader.ReadSft(path);

        Assert.Equal(
        [
            new SftExample("\n\nHuman: Hi\n\nAssistant:", " Hello!"),
            new SftExample("Be brief.\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Name a color.\n\nAssistant:", " Blue."),
        ], result.Examples);
    }

    [Fact]
    public void Messages_with_a_custom_template()
    {
        var chatMl = new ChatTemplate(SystemPrefix: "<|im_start|>system\n", UserPrefix: "<|im_start|>user\n",
            AssistantPrefix: "<|im_start|>assistant\n", ContentPrefix: "", TurnSuffix: "<|im_end|>\n");
        string path = _folder.WriteJsonLines("chat.jsonl",
            Chat(Message("system", "Be brief."), Message("user", "Hi"), Message("assistant", "Hello!")));

        var example = Assert.Single(DatasetReader.ReadSft(path, new ReadOptions { ChatTemplate = chatMl }).Examples);

        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", example.Prompt);
        Assert.Equal("Hello!<|im_end|>\n", example.Completion);
    }

    [Fact]
    public void Gzipped_Json_lines()
    {
        string path = _folder.WriteGzip("sft.jsonl.gz", "{\"prompt\": \"a\", \"completion\": \" b\"}\n");
        Assert.Equal([new SftExample("a", " b")], DatasetReader.ReadSft(path).Examples);
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}]}""", "the last message of \"messages\" must be the assistant's")]
    [InlineData("""{"messages": []}""", "the last message of \"messages\" must be the assistant's")]
    [InlineData("""{"messages": [{"role": "assistant", "content": "Hello"}]}""", "no user message in \"messages\"")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": " "}]}""", "the last assistant message of \"messages\" is empty")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}, {"role": "tool", "content": "x"}]}""", "messages[1].role \"tool\" is not system, user or assistant")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}, {"role": "system", "content": "x"}]}""", "messages[1]: a system message must come first")]
    [InlineData("""{"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]}""", "messages[0] is not an object with string \"role\" and \"content\"")]
    [InlineData("""{"messages": "Hi"}""", "field \"messages\" is not a list")]
    public void Bad_chats(string line, string why)
    {
        string path = _folder.WriteLines("chat.jsonl", line);
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadSft(path));
        Assert.Equal($"{path}:1: {why}", error.Message);
    }
}

public class PromptReaderTests
{
    [Fact]
    public void Prompts_come_from_a_prompt_field_or_from_hh_dialogues()
    {
        var hh = RlhfSharp.Data.DatasetReader.ReadPrompts(TestPaths.Shared("hh-rlhf", "helpful-base", "test.jsonl.gz"));
        Assert.Equal(2354, hh.Examples.Count);
        Assert.All(hh.Examples, p => Assert.EndsWith("\n\nAssistant:", p));

        string file = Path.Combine(TestPaths.NewTempDirectory(), "prompts.jsonl");
        File.WriteAllText(file, "{\"prompt\": \"one\", \"id\": 1}\n{\"prompt\": \"two\"}\n");
        Assert.Equal(["one", "two"], RlhfSharp.Data.DatasetReader.ReadPrompts(file).Examples);

        File.WriteAllText(file, "{\"prompt\": \"one\"}\n{\"prompt\": \"  \"}\n");
        Assert.Contains("prompts.jsonl:2: empty prompt", Assert.ThrowsAny<RlhfException>(() => RlhfSharp.Data.DatasetReader.ReadPrompts(file)).Message);
    }
}
