using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Tokenization;

public sealed class TokenizerLoaderTests : IDisposable
{
    readonly TempModelDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Folder_without_tokenizer_files_gives_null()
    {
        Assert.Null(TokenizerLoader.FromDirectory(_dir.Path));
        Assert.Null(TokenizerLoader.FromDirectory(TestPaths.Shared("models", "tiny-random-gpt2")));   // config and weights only
    }

    [Fact]
    public void Added_tokens_outside_the_vocabulary_encode_and_decode_as_text()
    {
        _dir.Write("tokenizer.json", TokenizerJsonFiles.Tiny(new Dictionary<string, int> { ["<|im_end|>"] = 8 }));
        var tokenizer = TokenizerLoader.FromDirectory(_dir.Path)!;

        var ids = tokenizer.Encode("hi<|im_end|> hi");

        Assert.Equal([2, 8, 4], ids);
        Assert.Equal("hi<|im_end|> hi", tokenizer.Decode(ids));
        Assert.Equal(9, tokenizer.VocabularySize);
    }

    [Fact]
    public void Tokenizer_json_comes_before_vocab_and_merges()
    {
        _dir.Write("tokenizer.json", TokenizerJsonFiles.Tiny());
        _dir.Write("vocab.json", """{"x": 0}""");
        _dir.Write("merges.txt", "#version: 0.2\n");

        Assert.Equal(8, TokenizerLoader.FromDirectory(_dir.Path)!.VocabularySize);
    }

    [Fact]
    public void Old_tokenizer_json_without_model_type_is_Bpe()
    {
        var json = TokenizerJsonFiles.Tiny();
        json["model"]!.AsObject().Remove("type");
        _dir.Write("tokenizer.json", json);

        Assert.Equal([2, 4], TokenizerLoader.FromDirectory(_dir.Path)!.Encode("hi hi"));
    }

    [Fact]
    public void Gpt2_built_in_is_shared() => Assert.Same(TokenizerLoader.Gpt2BuiltIn(), TokenizerLoader.Gpt2BuiltIn());
}
