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
        WriteTokenizerJson(json => json["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace" });
        AssertLoadFails("tokenizer.json", "pre_tokenizer");
    }

    [Fact]
    public void ByteLevel_with_prefix_space()
    {
        WriteTokenizerJson(json => json["pre_tokenizer"]!["add_prefix_space"] = true);
        AssertLoadFails("tokenizer.json", "pre_tokenizer", "add_prefix_space");
    }

    [Fact]
    public void Normalizer_is_not_supported()
    {
        WriteTokenizerJson(json => json["normalizer"] = new JsonObject { ["type"] = "NFC" });
        AssertLoadFails("tokenizer.json", "normalizer", "NFC");
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
