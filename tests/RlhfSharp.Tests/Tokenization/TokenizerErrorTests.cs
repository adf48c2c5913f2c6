using System.Text.Json.Nodes;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>Bad tokenizer files give one-line <see cref="RlhfException"/>s naming the file and field.</summary>
public sealed class TokenizerErrorTests : IDisposable
{
    readonly TempModelDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    void AssertLoadFails(params string[] messageParts)
    {
        var error = Assert.ThrowsAny<RlhfException>(() => TokenizerLoader.FromDirectory(_dir.Path));
        Assert.DoesNotContain('\n', error.Message);
        foreach (string part in messageParts) Assert.Contains(part, error.Message);
    }

    void WriteTokenizerJson(Action<JsonObject> change)
    {
        var json = TokenizerJsonFiles.Tiny();
        change(json);
        _dir.Write("tokenizer.json", json);
    }

    static JsonObject Model(JsonObject json) => json["model"]!.AsObject();

    [Fact]
    public void Malformed_tokenizer_json()
    {
        string path = _dir.Write("tokenizer.json", """{"model": {"type": "BPE",""");
        AssertLoadFails(path, "malformed JSON");
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    [InlineData("WordLevel")]
    public void Other_model_types(string type)
    {
        WriteTokenizerJson(json => Model(json)["type"] = type);
        AssertLoadFails("tokenizer.json", "model.type", type);
    }

    [Fact]
    public void Missing_merges()
    {
        WriteTokenizerJson(json => Model(json).Remove("merges"));
        AssertLoadFails("tokenizer.json", "model.merges");
    }

    [Fact]
    public void Merge_that_is_not_a_pair()
    {
        WriteTokenizerJson(json => Model(json)["merges"] = new JsonArray("h i", new JsonArray("a", "b", "c")));
        AssertLoadFails("tokenizer.json", "model.merges[1]");
    }

    [Fact]
    public void Merge_of_tokens_not_in_the_vocabulary()
    {
        WriteTokenizerJson(json => Model(json)["merges"] = new JsonArray("h i", "x y"));
        AssertLoadFails("tokenizer.json", "model", "'x'");
    }

    [Fact]
    public void Non_integer_vocabulary_id()
    {
        WriteTokenizerJson(json => Model(json)["vocab"]!["hi"] = "two");
        AssertLoadFails("tokenizer.json", "model.vocab[\"hi\"]");
    }

    [Fact]
    public void Added_token_without_id()
    {
        WriteTokenizerJson(json => json["added_tokens"] = new JsonArray(new JsonObject { ["content"] = "<x>" }));
        AssertLoadFails("tokenizer.json", "added_tokens[0]");
    }

    [Fact]
    public void Metaspace_pre_tokenizer_without_tokenizer_model()
    {
        WriteTokenizerJson(json => json["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first" });
        AssertLoadFails("tokenizer.json", "pre_tokenizer", "Metaspace", "tokenizer.model");
    }

    [Fact]
    public void Llama2_style_normalizer_without_tokenizer_model()
    {
        WriteTokenizerJson(json => json["normalizer"] = JsonNode.Parse("""
            {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
            """));
        AssertLoadFails("tokenizer.json", "normalizer.normalizers[0]", "Prepend", "tokenizer.model");
    }

    [Theory]
    [InlineData("Lowercase")]
    [InlineData("BertNormalizer")]
    public void Normalizer_other_than_unicode_forms(string type)
    {
        WriteTokenizerJson(json => json["normalizer"] = new JsonObject { ["type"] = type });
        AssertLoadFails("tokenizer.json", "normalizer", type, "NFC");
    }

    [Theory]
    [InlineData("NFKC")]
    [InlineData("NFKD")]
    public void Compatibility_normalizer(string type)
    {
        WriteTokenizerJson(json => json["normalizer"] = JsonNode.Parse($$"""{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "{{type}}"}]}"""));
        AssertLoadFails("tokenizer.json", "normalizer.normalizers[1]", type, "not supported");
    }

    [Theory]
    [InlineData("Whitespace")]
    [InlineData("Punctuation")]
    public void Pre_tokenizer_of_another_kind(string type)
    {
        WriteTokenizerJson(json => json["pre_tokenizer"] = TokenizerJsonFiles.PreTokenizerSequence(
            new JsonObject { ["type"] = type }, TokenizerJsonFiles.ByteLevelComponent()));
        AssertLoadFails("tokenizer.json", "pre_tokenizer.pretokenizers[0]", type);
    }

    [Fact]
    public void Missing_pre_tokenizer()
    {
        WriteTokenizerJson(json => json["pre_tokenizer"] = null);
        AssertLoadFails("tokenizer.json", "pre_tokenizer", "ByteLevel");
    }

    [Fact]
    public void ByteLevel_that_is_not_the_last_pre_tokenizer_step()
    {
        WriteTokenizerJson(json => json["pre_tokenizer"] = TokenizerJsonFiles.PreTokenizerSequence(
            TokenizerJsonFiles.ByteLevelComponent(), TokenizerJsonFiles.Digits(individual: true)));
        AssertLoadFails("tokenizer.json", "pre_tokenizer", "must end with ByteLevel");
    }

    [Fact]
    public void Split_with_an_unknown_behavior()
    {
        WriteTokenizerJson(json => json["pre_tokenizer"] = TokenizerJsonFiles.PreTokenizerSequence(
            TokenizerJsonFiles.Split(@"\s+", "Separate"), TokenizerJsonFiles.ByteLevelComponent(useRegex: false)));
        AssertLoadFails("tokenizer.json", "pre_tokenizer.pretokenizers[0].behavior", "Separate", "Isolated");
    }

    [Theory]
    [InlineData(@"[\p{L}&&[^a-z]]", "&&")]
    [InlineData(@"\p{Han}+", "Han")]
    [InlineData(@"(?<x", "pattern.Regex")]
    public void Split_with_a_pattern_dotnet_cannot_run(string pattern, string problem)
    {
        WriteTokenizerJson(json => json["pre_tokenizer"] = TokenizerJsonFiles.SplitThenByteLevel(pattern));
        AssertLoadFails("tokenizer.json", "pre_tokenizer.pretokenizers[0].pattern.Regex", problem);
    }

    [Fact]
    public void Split_without_a_pattern()
    {
        WriteTokenizerJson(json => json["pre_tokenizer"] = TokenizerJsonFiles.PreTokenizerSequence(
            new JsonObject { ["type"] = "Split", ["behavior"] = "Isolated" }, TokenizerJsonFiles.ByteLevelComponent()));
        AssertLoadFails("tokenizer.json", "pre_tokenizer.pretokenizers[0].pattern");
    }

    [Fact]
    public void Decoder_of_another_kind()
    {
        WriteTokenizerJson(json => json["decoder"] = new JsonObject { ["type"] = "WordPiece" });
        AssertLoadFails("tokenizer.json", "decoder", "WordPiece");
    }

    [Fact]
    public void Bpe_with_a_continuing_subword_prefix()
    {
        WriteTokenizerJson(json => Model(json)["continuing_subword_prefix"] = "##");
        AssertLoadFails("tokenizer.json", "model.continuing_subword_prefix", "##");
    }

    [Fact]
    public void Vocab_without_merges()
    {
        _dir.Write("vocab.json", """{"a": 0}""");
        AssertLoadFails("merges.txt", "missing");
    }

    [Fact]
    public void Malformed_vocab_json()
    {
        _dir.Write("vocab.json", "[1, 2");
        _dir.Write("merges.txt", "#version: 0.2\n");
        AssertLoadFails("vocab.json", "malformed JSON");
    }

    [Fact]
    public void Merges_line_that_is_not_a_pair()
    {
        _dir.Write("vocab.json", """{"a": 0, "b": 1, "ab": 2}""");
        _dir.Write("merges.txt", "#version: 0.2\na b\nab\n");
        AssertLoadFails("merges.txt", "line 3");
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 })]
    [InlineData(new byte[0])]
    public void Corrupt_SentencePiece_model(byte[] content)
    {
        _dir.Write("tokenizer.model", content);
        AssertLoadFails("tokenizer.model");
    }

    [Fact]
    public void Config_id_that_is_not_an_integer()
    {
        _dir.Write("tokenizer.json", TokenizerJsonFiles.Tiny());
        _dir.Write("config.json", """{"eos_token_id": "</s>"}""");
        AssertLoadFails("config.json", "eos_token_id");
    }

    [Fact]
    public void Special_token_text_not_in_the_vocabulary()
    {
        _dir.Write("tokenizer.json", TokenizerJsonFiles.Tiny());
        _dir.Write("tokenizer_config.json", """{"pad_token": {"content": "<|pad|>"}}""");
        AssertLoadFails("tokenizer_config.json", "pad_token", "<|pad|>");
    }

    [Fact]
    public void Malformed_special_tokens_map()
    {
        _dir.Write("tokenizer.json", TokenizerJsonFiles.Tiny());
        _dir.Write("special_tokens_map.json", "{\"bos_token\": ");
        AssertLoadFails("special_tokens_map.json", "malformed JSON");
    }
}
