using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Tokenization;
using static RlhfSharp.Tests.Tokenization.TokenizerJsonFiles;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>Pre-token splits of tokenizer.json pre-tokenizers, against splits worked out by hand from each pattern.</summary>
public sealed class PreTokenizerTests
{
    internal static List<string> PiecesOf(JsonNode preTokenizer, string text) =>
        TokenizerPipelineJson.ReadPreTokenizer("tokenizer.json", JsonSerializer.SerializeToElement(preTokenizer)).Split(text);

    static List<string> SplitBy(string pattern, string text) => PiecesOf(SplitThenByteLevel(pattern), text);

    public static TheoryData<string, string[], string[], string[]> TrickyStrings => new()
    {
        // text, Qwen2.5 pieces, Llama 3 pieces, GPT-2 pieces
        // Contractions are case-insensitive for Qwen and Llama 3 only; Qwen takes one digit at a time, Llama 3 up to three.
        { "I'LL pay 12345.", ["I", "'LL", " pay", " ", "1", "2", "3", "4", "5", "."], ["I", "'LL", " pay", " ", "123", "45", "."], ["I", "'", "LL", " pay", " 12345", "."] },
        // Newlines gather into one piece; the last space before a word stays with it.
        { "\n\n  x", ["\n\n", " ", " x"], ["\n\n", " ", " x"], ["\n\n ", " x"] },
        { "don't\r\n\r\nOK", ["don", "'t", "\r\n\r\n", "OK"], ["don", "'t", "\r\n\r\n", "OK"], ["don", "'t", "\r\n\r", "\n", "OK"] },
        { "hi   ", ["hi", "   "], ["hi", "   "], ["hi", "   "] },
        { "hi  there", ["hi", " ", " there"], ["hi", " ", " there"], ["hi", " ", " there"] },
        // One non-letter, non-digit may lead a word in Qwen and Llama 3 (not a newline); punctuation keeps newlines after it.
        { "a,b", ["a", ",b"], ["a", ",b"], ["a", ",", "b"] },
        { "x;\ny", ["x", ";\n", "y"], ["x", ";\n", "y"], ["x", ";", "\n", "y"] },
        // An emoji is one code point: it may lead a word like any other symbol.
        { "😀Great!!\n", ["😀Great", "!!\n"], ["😀Great", "!!\n"], ["😀", "Great", "!!", "\n"] },
        // CJK, in and beyond the BMP (U+20000 is a letter), and mathematical digits beyond the BMP.
        { "你好世界 hello", ["你好世界", " hello"], ["你好世界", " hello"], ["你好世界", " hello"] },
        { "𠀀𠀁x", ["𠀀𠀁x"], ["𠀀𠀁x"], ["𠀀𠀁x"] },
        { "𝟏𝟐𝟑𝟒", ["𝟏", "𝟐", "𝟑", "𝟒"], ["𝟏𝟐𝟑", "𝟒"], ["𝟏𝟐𝟑𝟒"] },
    };

    [Theory]
    [MemberData(nameof(TrickyStrings))]
    public void Qwen_Llama3_and_Gpt2_patterns_split_tricky_strings_as_worked_out_by_hand(string text, string[] qwen, string[] llama3, string[] gpt2)
    {
        Assert.Equal(qwen, SplitBy(QwenPattern, text));
        Assert.Equal(llama3, SplitBy(Llama3Pattern, text));
        Assert.Equal(gpt2, SplitBy(Gpt2Pattern, text));
        Assert.Equal(gpt2, PiecesOf(ByteLevelComponent(), text));   // ByteLevel's own regex is GPT-2's
    }

    [Theory]
    [InlineData("HelloWorld's CAFÉs", new[] { "Hello", "World's", " CAFÉs" })]
    [InlineData("HELLO world", new[] { "HELLO", " world" })]
    [InlineData("a/b\n/c", new[] { "a", "/b", "\n", "/c" })]
    public void O200k_pattern_splits_on_letter_case(string text, string[] expected) => Assert.Equal(expected, SplitBy(O200kPattern, text));

    [Fact]
    public void Digits_alone_splits_as_tokenizers_does()
    {
        // The examples in tokenizers' own digits.rs tests.
        Assert.Equal(["Hey ", "123", " friend!"], PiecesOf(Digits(individual: false), "Hey 123 friend!"));
        Assert.Equal(["Hey ", "1", "2", "3", " friend!"], PiecesOf(Digits(individual: true), "Hey 123 friend!"));
        Assert.Equal(["x", "𝟏", "²", "Ⅻ", "y"], PiecesOf(Digits(individual: true), "x𝟏²Ⅻy"));   // Nd beyond the BMP, No, Nl
    }

    [Theory]
    // The examples in tokenizers' own split.rs tests: the pattern \w+|[^\w\s]+ inverted, so the spaces are the matches.
    [InlineData("Removed", new[] { "How", "are", "you", "doing", "?" })]
    [InlineData("Isolated", new[] { "How", " ", "are", " ", "you", " ", "doing", "?" })]
    [InlineData("MergedWithPrevious", new[] { "How ", "are ", "you ", "doing", "?" })]
    [InlineData("MergedWithNext", new[] { "How", " are", " you", " doing", "?" })]
    [InlineData("Contiguous", new[] { "How", " ", "are", " ", "you", " ", "doing?" })]
    public void Split_behaviours_combine_matches_as_tokenizers_does(string behavior, string[] expected) =>
        Assert.Equal(expected, PiecesOf(Split(@"\w+|[^\w\s]+", behavior, invert: true), "How are you doing?"));

    [Fact]
    public void String_pattern_is_literal()
    {
        Assert.Equal(["a", ".", "b", ".", "c"], PiecesOf(Split(".", isRegex: false), "a.b.c"));
        Assert.Equal(["Hey,", "man!"], PiecesOf(Split(" ", "Removed", isRegex: false), "Hey, man!"));
    }

    [Fact]
    public void Sequences_nest_and_each_step_splits_every_piece_of_the_previous_one()
    {
        var nested = PreTokenizerSequence(PreTokenizerSequence(Digits(individual: true)), Split(@"\s+", "Removed"), ByteLevelComponent(useRegex: false));

        Assert.Equal(["ab", "1", "2", "c", "d"], PiecesOf(nested, "ab12 c  d"));
    }
}
