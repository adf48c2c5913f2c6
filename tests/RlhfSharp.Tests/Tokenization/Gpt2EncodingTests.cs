using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>GPT-2's tokenizer from each source, built once for the test class.</summary>
public sealed class Gpt2Tokenizers : IDisposable
{
    readonly TempModelDirectory _stringMerges = new(), _pairMerges = new();

    public Gpt2Tokenizers()
    {
        _stringMerges.Write("tokenizer.json", TokenizerJsonFiles.Gpt2(mergesAsPairs: false));
        _pairMerges.Write("tokenizer.json", TokenizerJsonFiles.Gpt2(mergesAsPairs: true));
    }

    public ITextTokenizer Get(string source) => source switch
    {
        "built-in" => TokenizerLoader.Gpt2BuiltIn(),
        "vocab.json + merges.txt" => TokenizerLoader.FromDirectory(TestPaths.Shared("gpt2-tokenizer"))!,
        "tokenizer.json, string merges" => TokenizerLoader.FromDirectory(_stringMerges.Path)!,
        "tokenizer.json, pair merges" => TokenizerLoader.FromDirectory(_pairMerges.Path)!,
        _ => throw new ArgumentException(source),
    };

    public void Dispose()
    {
        _stringMerges.Dispose();
        _pairMerges.Dispose();
    }
}

public sealed class Gpt2EncodingTests(Gpt2Tokenizers tokenizers) : IClassFixture<Gpt2Tokenizers>
{
    const int EndOfText = 50256;

    [Fact]
    public void Test_plans_hold_67_r50k_base_cases() => Assert.Equal(67, TiktokenTestPlans.Cases("r50k_base").Count);

    [Theory]
    [InlineData("built-in")]
    [InlineData("vocab.json + merges.txt")]
    [InlineData("tokenizer.json, string merges")]
    [InlineData("tokenizer.json, pair merges")]
    public void Encodes_every_r50k_base_case_like_tiktoken_and_decodes_back(string source)
    {
        Assert.Empty(TiktokenTestPlans.Gpt2Failures(tokenizers.Get(source)));
    }

    // The test plans have no contractions and few runs of whitespace; the built-in tiktoken encoding is the reference.
    static readonly string[] WhitespaceAndContractions =
    [
        "I'll say it's fine, we're done; they've gone, I'm sure, he'd know, don't.",
        "  two  spaces,   three   spaces \t tab\n\nnew lines  \n  indented\r\n",
        "trailing spaces   ", "   ", "\n", "x\u00a0y\u3000z", "IT'S LOUD'LL", "'s's 'S",
    ];

    [Theory]
    [InlineData("vocab.json + merges.txt")]
    [InlineData("tokenizer.json, string merges")]
    public void Matches_the_built_in_on_whitespace_and_contractions(string source)
    {
        ITextTokenizer tokenizer = tokenizers.Get(source), reference = TokenizerLoader.Gpt2BuiltIn();
        var failures = WhitespaceAndContractions.Where(text => !tokenizer.Encode(text).SequenceEqual(reference.Encode(text))).ToList();
        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("built-in")]
    [InlineData("vocab.json + merges.txt")]
    [InlineData("tokenizer.json, pair merges")]
    public void End_of_text_is_Bos_and_Eos_and_pads_for_the_missing_pad_token(string source)
    {
        ITextTokenizer tokenizer = tokenizers.Get(source);
        Assert.Equal(50257, tokenizer.VocabularySize);
        Assert.Equal(new SpecialTokens(EndOfText, EndOfText, null, "<|endoftext|>", "<|endoftext|>", null), tokenizer.Special);
        Assert.Equal(EndOfText, tokenizer.Special.PadIdOrEos);
        Assert.Equal([EndOfText], tokenizer.Encode("<|endoftext|>"));
    }
}
