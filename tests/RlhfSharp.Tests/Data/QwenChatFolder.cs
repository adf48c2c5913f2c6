using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using static RlhfSharp.Tests.Tokenization.TokenizerJsonFiles;

namespace RlhfSharp.Tests.Data;

/// <summary>
/// A model folder shaped like Qwen2.5-Instruct's: its real chat template (../shared/data/chat-templates) in
/// tokenizer_config.json, a tokenizer.json with Qwen's pre-tokenizer over GPT-2's vocabulary and &lt;|im_start|&gt; (50257)
/// and &lt;|im_end|&gt; (50258, the EOS) as added tokens, and optionally a tiny random qwen2 model over that vocabulary.
/// </summary>
public static class QwenChatFolder
{
    public const int EndOfText = 50256, ImStart = 50257, ImEnd = 50258;

    public static string TemplateText => File.ReadAllText(TestPaths.Shared("chat-templates", "qwen2.5-instruct.jinja"));

    /// <summary>Tokenizer files only.</summary>
    public static string Tokenizer()
    {
        string dir = TestPaths.NewTempDirectory("qwen-chat");
        WriteTokenizer(dir);
        return dir;
    }

    /// <summary>
    /// Tokenizer files and a tiny random qwen2 model whose config.json lists <paramref name="eosIds"/> as eos_token_id
    /// (Qwen2.5-Instruct's generation_config lists &lt;|im_end|&gt; and &lt;|endoftext|&gt;).
    /// </summary>
    public static string Model(params int[] eosIds)
    {
        string dir = Tokenizer();
        var json = TinyModels.With(TinyModels.ConfigJson("qwen2"), ("vocab_size", ImEnd + 1),
            ("eos_token_id", eosIds.Length == 1 ? eosIds[0] : new JsonArray([.. eosIds.Select(id => (JsonNode)id)])));
        TorchSharp.torch.manual_seed(5);
        using (var model = new CausalLanguageModel(ModelConfig.FromJson(json))) model.SavePretrained(dir);
        return dir;
    }

    static void WriteTokenizer(string dir)
    {
        var json = Gpt2With(Normalizer("NFC"), SplitThenByteLevel(QwenPattern));
        json["added_tokens"] = new JsonArray(AddedToken(EndOfText, "<|endoftext|>"), AddedToken(ImStart, "<|im_start|>"), AddedToken(ImEnd, "<|im_end|>"));
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        var config = new JsonObject
        {
            ["add_bos_token"] = false, ["bos_token"] = null, ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>",
            ["tokenizer_class"] = "Qwen2Tokenizer", ["chat_template"] = TemplateText,
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
    }
}
