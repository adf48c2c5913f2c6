using System.Text.Json.Nodes;
using RlhfSharp.Tokenization;
using static RlhfSharp.Tests.Tokenization.TokenizerJsonFiles;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>
/// Model folders shaped like Qwen2.5's, Llama 3's and SmolLM2's (their tokenizer.json pipelines and special tokens, over
/// GPT-2's vocabulary since the real files cannot be downloaded here).
/// </summary>
public sealed class ModelTokenizerFolderTests : IDisposable
{
    readonly TempModelDirectory _dir = new();
    static readonly ITextTokenizer Reference = TokenizerLoader.Gpt2BuiltIn();

    public void Dispose() => _dir.Dispose();

    static int[] Gpt2(params string[] pieces) => pieces.SelectMany(Reference.Encode).ToArray();

    [Fact]
    public void Qwen_shaped_folder_has_no_Bos_and_ends_turns_with_im_end()
    {
        var json = Gpt2With(Normalizer("NFC"), SplitThenByteLevel(QwenPattern));
        json["added_tokens"] = new JsonArray(AddedToken(50256, "<|endoftext|>"), AddedToken(50257, "<|im_start|>"), AddedToken(50258, "<|im_end|>"));
        json["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        _dir.Write("tokenizer.json", json);
        _dir.Write("tokenizer_config.json", """
            {"add_bos_token": false, "add_prefix_space": false, "bos_token": null, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
             "errors": "replace", "model_max_length": 131072, "split_special_tokens": false, "tokenizer_class": "Qwen2Tokenizer", "unk_token": null}
            """);

        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;
        const string turn = "<|im_start|>user\nHi 123<|im_end|>\n";
        var ids = tokenizer.Encode(turn);

        Assert.Equal(new SpecialTokens(null, 50258, 50256, null, "<|im_end|>", "<|endoftext|>"), tokenizer.Special);
        Assert.Equal([50257, .. Gpt2("user", "\n", "Hi", " ", "1", "2", "3"), 50258, .. Gpt2("\n")], ids);
        Assert.Equal(turn, tokenizer.Decode(ids));
        Assert.Equal(50259, tokenizer.VocabularySize);
    }

    [Fact]
    public void Llama3_shaped_folder_adds_no_Bos_when_encoding_though_its_post_processor_would()
    {
        var json = Gpt2With(null, SplitThenByteLevel(Llama3Pattern));
        json["added_tokens"] = new JsonArray(AddedToken(50257, "<|begin_of_text|>"), AddedToken(50258, "<|eot_id|>"));
        json["model"]!["ignore_merges"] = true;
        json["post_processor"] = JsonNode.Parse("""
            {"type": "Sequence", "processors": [
              {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
              {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
               "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
               "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [50257], "tokens": ["<|begin_of_text|>"]}}}]}
            """);
        _dir.Write("tokenizer.json", json);
        _dir.Write("tokenizer_config.json", """{"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}""");

        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;

        Assert.Equal(new SpecialTokens(50257, 50258, null, "<|begin_of_text|>", "<|eot_id|>", null), tokenizer.Special);
        Assert.Equal(Gpt2("Hi", " ", "123", "4"), tokenizer.Encode("Hi 1234"));
        Assert.Equal([50257, .. Gpt2("Hi")], tokenizer.Encode("<|begin_of_text|>Hi"));
    }

    [Fact]
    public void Ignore_merges_takes_a_piece_that_is_in_the_vocabulary_whole()
    {
        // "hello" is in the vocabulary but no merge makes it: by the merges it is he + ll + o.
        var vocab = new Dictionary<string, int> { ["h"] = 0, ["e"] = 1, ["l"] = 2, ["o"] = 3, ["he"] = 4, ["ll"] = 5, ["hello"] = 6, ["Ġ"] = 7 };
        JsonObject Tokenizer(bool ignoreMerges)
        {
            var json = Tiny();
            var vocabObject = new JsonObject();
            foreach (var (token, id) in vocab) vocabObject[token] = id;
            json["model"]!["vocab"] = vocabObject;
            json["model"]!["merges"] = new JsonArray("h e", "l l");
            json["model"]!["ignore_merges"] = ignoreMerges;
            json["pre_tokenizer"] = SplitThenByteLevel(Llama3Pattern);
            return json;
        }

        _dir.Write("tokenizer.json", Tokenizer(ignoreMerges: false));
        Assert.Equal([4, 5, 3], TokenizerLoader.FromDirectory(_dir.Path)!.Encode("hello"));

        _dir.Write("tokenizer.json", Tokenizer(ignoreMerges: true));
        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;
        Assert.Equal([6], tokenizer.Encode("hello"));
        Assert.Equal([6, 7, 4, 5, 3], tokenizer.Encode("hello hello"));   // "Ġhello" is not in the vocabulary
        Assert.Equal([4, 5], tokenizer.Encode("hell"));   // not in the vocabulary: the merges decide
        Assert.Equal("hello hell", tokenizer.Decode(tokenizer.Encode("hello hell")));
    }
}
