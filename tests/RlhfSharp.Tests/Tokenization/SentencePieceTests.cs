using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Tokenization;

public sealed class SentencePieceTests : IDisposable
{
    readonly TempModelDirectory _dir = new();

    public SentencePieceTests() => _dir.Write("tokenizer.model", SentencePieceModelFile.Build());

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Encodes_whole_words_with_the_dummy_prefix_and_decodes_back()
    {
        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;

        var ids = tokenizer.Encode("hello world");

        Assert.Equal([SentencePieceModelFile.IdOf("▁hello"), SentencePieceModelFile.IdOf("▁world")], ids);
        Assert.Equal("hello world", tokenizer.Decode(ids));
        Assert.Equal(SentencePieceModelFile.VocabularySize, tokenizer.VocabularySize);
    }

    [Theory]
    [InlineData("héllo wörld!")]
    [InlineData("  hello\tworld ")]
    [InlineData("日本語 🌍")]
    public void Unknown_characters_round_trip_through_byte_fallback(string text)
    {
        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Model_Bos_and_Eos_are_special_and_matched_in_text()
    {
        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;

        Assert.Equal(new SpecialTokens(1, 2, null, "<s>", "</s>", null), tokenizer.Special);
        Assert.Equal(2, tokenizer.Special.PadIdOrEos);
        var ids = tokenizer.Encode("<s>hello</s>");
        Assert.Equal([1, SentencePieceModelFile.IdOf("▁hello"), 2], ids);
        Assert.Equal("<s>hello</s>", tokenizer.Decode(ids));
    }

    [Fact]
    public void Pad_can_share_the_Eos_text()
    {
        _dir.Write("tokenizer_config.json", """{"eos_token": "</s>", "pad_token": "</s>"}""");
        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;

        Assert.Equal(new SpecialTokens(1, 2, 2, "<s>", "</s>", "</s>"), tokenizer.Special);
        Assert.Equal([SentencePieceModelFile.IdOf("▁hello"), 2], tokenizer.Encode("hello</s>"));
    }

    [Fact]
    public void A_Llama_style_tokenizer_json_yields_to_tokenizer_model()
    {
        var llamaJson = TokenizerJsonFiles.Tiny();
        llamaJson["normalizer"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "Sequence" };
        llamaJson["pre_tokenizer"] = null;
        _dir.Write("tokenizer.json", llamaJson);

        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;

        Assert.Equal(SentencePieceModelFile.VocabularySize, tokenizer.VocabularySize);
        Assert.Equal([SentencePieceModelFile.IdOf("▁hello")], tokenizer.Encode("hello"));
    }

    [Fact]
    public void A_Metaspace_tokenizer_json_with_byte_fallback_yields_to_tokenizer_model()
    {
        // The layout of tokenizers >= 0.19 conversions (Mistral v0.3, Llama 2 re-saved): no normalizer, Metaspace.
        var mistralJson = TokenizerJsonFiles.Tiny();
        mistralJson["normalizer"] = null;
        mistralJson["pre_tokenizer"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false };
        mistralJson["model"]!["byte_fallback"] = true;
        _dir.Write("tokenizer.json", mistralJson);

        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;

        Assert.Equal(SentencePieceModelFile.VocabularySize, tokenizer.VocabularySize);
        Assert.Equal([SentencePieceModelFile.IdOf("▁hello")], tokenizer.Encode("hello"));
    }
}
