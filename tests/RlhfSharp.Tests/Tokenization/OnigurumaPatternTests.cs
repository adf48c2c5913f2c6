using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>Oniguruma (Ruby syntax) patterns, as tokenizers compiles them, keep their meaning in .NET.</summary>
public sealed class OnigurumaPatternTests
{
    static List<string> Matches(string pattern, string text) =>
        new CodePointRegex(OnigurumaPattern.ToDotNet(pattern)).Matches(text).Select(m => text[m.Start..m.End]).ToList();

    [Fact]
    public void Possessive_quantifiers_do_not_give_back()
    {
        Assert.Empty(Matches("a?+a", "a"));           // a?+ keeps the a, so nothing is left for the second a
        Assert.Equal(["a"], Matches("a?a", "a"));
        Assert.Empty(Matches("a*+a", "aaa"));
        Assert.Empty(Matches("\\s++x?\\s", "   "));
        Assert.Equal(["'s", " ok"], Matches("'(?i:[sdmt]|ll)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++", "'s ok"));   // tiktoken's cl100k style
    }

    [Fact]
    public void Counted_quantifier_then_plus_repeats_the_count_as_Ruby_does()
    {
        Assert.Equal(["12345"], Matches("\\p{N}{1,3}+", "12345"));
        Assert.Equal(["123", "45"], Matches("\\p{N}{1,3}", "12345"));
    }

    [Fact]
    public void Ruby_meanings_of_dollar_m_h_and_code_points()
    {
        Assert.Equal(["a", "a"], Matches("a$", "a\nba"));           // $ is the end of any line
        Assert.Equal(["a\nb"], Matches("(?m:a.b)", "a\nb"));         // m is dot-all
        Assert.Empty(Matches("a.b", "a\nb"));
        Assert.Equal(["9fA"], Matches("\\h+", "9fA-g"));
        Assert.Equal(["中"], Matches("\\x{4E2D}", "a中b"));
        Assert.Equal(["ab", "c"], Matches("\\p{^N}+", "ab1c"));       // negated property
        Assert.Equal(["AB"], Matches("(?i)ab", "AB"));
    }

    [Fact]
    public void Ignoring_case_s_also_matches_the_long_s_that_folds_to_it()
    {
        Assert.Equal(["'\u017F", "'T"], Matches("(?i:'s|'t)", "'\u017F 'T"));     // long s folds to s
        Assert.Equal(["'\u017F", "'D"], Matches("'(?i:[sdmt])", "'\u017F 'D"));   // in a class too
        Assert.Equal(["\u212A", "k"], Matches("(?i)k", "\u212Ak"));               // the Kelvin sign folds to k (.NET knows that one)
        Assert.Empty(Matches("'s", "'\u017F"));                                    // not when case matters
        Assert.Empty(Matches("(?i:x)'s", "X'\u017F"));                             // the group ended, and ignoring case with it
        Assert.Equal(["'\u017F"], Matches("'(?i)s", "'\u017F"));                  // (?i) holds to the end
        Assert.Empty(Matches("(?i)(?-i:'s)", "'\u017F"));
        Assert.Equal(["'\u017F"], Matches("(?i)(?<s>'s)", "'\u017F"));            // a group name is left alone
    }

    [Theory]
    [InlineData("[a[b]]", "nested")]
    [InlineData("[[:alpha:]]", "nested")]
    [InlineData("[a-z&&[^aeiou]]", "&&")]
    [InlineData("\\x{1F600}", "beyond the BMP")]
    [InlineData("[abc", "not closed")]
    public void Constructs_dotnet_lacks_are_refused(string pattern, string problem) =>
        Assert.Contains(problem, Assert.Throws<FormatException>(() => OnigurumaPattern.ToDotNet(pattern)).Message);

    [Fact]
    public void Characters_beyond_the_BMP_count_as_one_code_point_of_their_category()
    {
        Assert.Equal(["😀Great"], Matches("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+", "😀Great"));
        Assert.Equal(["𝟏𝟐𝟑", "𝟒"], Matches("\\p{N}{1,3}", "𝟏𝟐𝟑𝟒"));
        Assert.Equal(["𠀀b"], Matches("\\w+", "𠀀b"));
        Assert.Equal(["a", "😀", "b"], Matches(".", "a😀b"));
    }
}
