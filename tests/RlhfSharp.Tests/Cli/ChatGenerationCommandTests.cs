using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Tests.Data;
using RlhfSharp.Tests.Models;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Cli;

/// <summary>`generate --chat`, and generation stopping at every end id a model lists.</summary>
public class ChatGenerationCommandTests
{
    static readonly Lazy<string> QwenModel = new(() => QwenChatFolder.Model(QwenChatFolder.ImEnd, QwenChatFolder.EndOfText));

    static JsonElement[] Rows(string path) => File.ReadAllLines(path).Select(line => JsonDocument.Parse(line).RootElement).ToArray();

    static string OutputFile() => Path.Combine(TestPaths.NewTempDirectory(), "out.jsonl");

    [Fact]
    public void Chat_renders_each_prompt_as_a_user_turn_with_the_model_template()
    {
        string output = OutputFile();
        var result = CliRunner.Run("generate", "--model", QwenModel.Value, "--chat", "--prompt", "Hi", "--prompt", "Name a color.",
            "--max-new-tokens", "2", "--greedy", "--output", output);

        Assert.True(result.ExitCode == 0, result.Error);
        const string system = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";
        string expected = system + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        var rows = Rows(output);
        Assert.Equal([expected, system + "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n"], rows.Select(r => r.GetProperty("prompt").GetString()));
        var tokenizer = TokenizerLoader.FromDirectory(QwenModel.Value)!;
        int[] promptIds = [.. rows[0].GetProperty("prompt_ids").EnumerateArray().Select(id => id.GetInt32())];
        Assert.Equal(tokenizer.Encode(expected), promptIds);
        // The template's special tokens are single ids, and no BOS was put in front (Qwen has none).
        Assert.Equal(QwenChatFolder.ImStart, promptIds[0]);
        Assert.Equal(3, promptIds.Count(id => id == QwenChatFolder.ImStart));
        Assert.DoesNotContain("note:", result.Output);
        // The file is readable as it is: the chat tokens are written as text, not as \u003C|im_start|\u003E.
        Assert.Contains("\"prompt\":\"<|im_start|>system", File.ReadAllText(output));
    }

    [Fact]
    public void Chat_wraps_bare_prompt_rows_in_a_user_turn_and_leaves_conversation_rows_as_rendered()
    {
        string GeneratedPrompt(string row)
        {
            string prompts = Path.Combine(TestPaths.NewTempDirectory(), "prompts.jsonl");
            File.WriteAllLines(prompts, [row]);
            string output = OutputFile();
            var result = CliRunner.Run("generate", "--model", QwenModel.Value, "--chat", "--prompts", prompts, "--max-new-tokens", "2", "--greedy", "--output", output);
            Assert.True(result.ExitCode == 0, result.Error);
            return Rows(output)[0].GetProperty("prompt").GetString()!;
        }

        const string system = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";
        string turn = system + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        Assert.Equal(turn, GeneratedPrompt("""{"prompt": "Hi"}"""));
        // A chat row is cut before its reply and rendered once, not wrapped in a second turn.
        Assert.Equal(turn, GeneratedPrompt("""{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}"""));
    }

    [Fact]
    public void Chat_with_a_model_without_a_template_uses_hh_and_says_so()
    {
        string output = OutputFile();
        var result = CliRunner.Run("generate", "--model", TrainingCommandTestsModels.TinyModel, "--chat", "--prompt", "Hi",
            "--max-new-tokens", "2", "--greedy", "--output", output);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("\n\nHuman: Hi\n\nAssistant:", Rows(output)[0].GetProperty("prompt").GetString());
        Assert.Contains("note: --chat uses HH's \"\\n\\nHuman: ...\\n\\nAssistant:\"", result.Output);
    }

    [Fact]
    public void Chat_needs_prompt_texts()
    {
        var result = CliRunner.Run("generate", "--model", TinyRandomGpt2Tests.ModelDir, "--chat", "--input-ids", "0,1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("error: --chat renders prompt texts as user messages; give --prompt or --prompts, not --input-ids", result.Error.Trim());
    }

    /// <summary>The tiny random GPT-2 greedily continues 0,0,195,731 with 731 114 114 ...: 114 listed as an end id stops it there.</summary>
    [Theory]
    [InlineData("config.json")]
    [InlineData("generation_config.json")]
    public void Generation_stops_at_any_end_id_the_model_lists(string listedIn)
    {
        string dir = TestPaths.NewTempDirectory("eos-list");
        foreach (string file in Directory.GetFiles(TinyRandomGpt2Tests.ModelDir)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        var ends = new JsonArray(98, 114);
        if (listedIn == "config.json") config["eos_token_id"] = ends;
        else File.WriteAllText(Path.Combine(dir, "generation_config.json"), new JsonObject { ["eos_token_id"] = ends }.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        string output = OutputFile();

        var result = CliRunner.Run("generate", "--model", dir, "--input-ids", "0,0,195,731", "--max-new-tokens", "6", "--greedy", "--output", output);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("ids: 731 114\n", result.Output.ReplaceLineEndings("\n"));
        Assert.Equal("EndOfSequence", Rows(output)[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void A_list_of_end_ids_keeps_its_first_as_the_primary_and_is_saved_as_a_list()
    {
        var config = RlhfSharp.Models.ModelConfig.FromJson(TinyModels.With(TinyModels.ConfigJson("llama"), ("eos_token_id", new JsonArray(96, 94, 95))));

        Assert.Equal(96, config.EosTokenId);
        Assert.Equal([96, 94, 95], config.StopTokenIds);
        Assert.Equal("[96,94,95]", config.ToJson("LlamaForCausalLM")["eos_token_id"]!.ToJsonString());
    }

    static string ChatData(params (string Role, string Content)[][] chats)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "chat.jsonl");
        File.WriteAllLines(path, chats.Select(chat => new JsonObject
        {
            ["messages"] = new JsonArray([.. chat.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
        }.ToJsonString()));
        return path;
    }

    [Fact]
    public void Sft_trains_on_chats_rendered_with_the_model_template()
    {
        string data = ChatData([("user", "Hi"), ("assistant", "Hello!"), ("user", "Name a color."), ("assistant", "Blue.")], [("user", "Yo"), ("assistant", "Hey.")]);
        string[] oneStep = ["--max-steps", "1", "--batch-size", "2", "--max-length", "64", "--held-out-fraction", "0"];
        // The same folder with a chat_template.jinja (which wins over tokenizer_config.json) that refuses two user messages in
        // a row shows that sft renders with the folder's template.
        string strictFolder = TestPaths.NewTempDirectory("strict-template");
        foreach (string file in Directory.GetFiles(QwenModel.Value)) File.Copy(file, Path.Combine(strictFolder, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(strictFolder, "chat_template.jinja"), """
            {%- for m in messages -%}
            {%- if loop.index0 > 0 and m.role == messages[loop.index0 - 1].role -%}{{ raise_exception('roles must alternate') }}{%- endif -%}
            {{ m.role }}: {{ m.content }}
            {% endfor -%}
            """);
        string repeatedUser = ChatData([("user", "Hi"), ("user", "Again"), ("assistant", "Hello!")]);

        var trained = CliRunner.Run(["sft", "--model", QwenModel.Value, "--out", Path.Combine(TestPaths.NewTempDirectory(), "sft"), "--data", data, .. oneStep]);
        var refused = CliRunner.Run(["sft", "--model", strictFolder, "--out", Path.Combine(TestPaths.NewTempDirectory(), "sft"), .. oneStep, "--data", repeatedUser]);

        Assert.True(trained.ExitCode == 0, trained.Error);
        Assert.Contains("data: 2 training and 0 held-out examples", trained.Output);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.True(refused.Error.Contains("chat_template.jinja line 2: roles must alternate"), refused.Error);
    }
}
