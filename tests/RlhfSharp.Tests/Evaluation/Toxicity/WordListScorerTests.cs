using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class WordListScorerTests
{
    static readonly WordList List = new("test", ["ass", "blow job", "g-spot", "🖕", ""]);

    [Theory]
    [InlineData("You ASS!", 1)]
    [InlineData("a class assignment", 0)] // whole words only
    [InlineData("what a blow job", 1)]
    [InlineData("a blow to the job market", 0)] // a phrase must be contiguous
    [InlineData("the G spot", 1)] // the term's hyphen is a separator, like the text's space
    [InlineData("&#128405; you", 1)] // HTML-escaped emoji, as in tweets
    [InlineData("", 0)]
    public void AnyMatch_scores_one_when_a_term_occurs(string text, double expected) =>
        Assert.Equal(expected, new WordListScorer(List).Score([text])[0]);

    [Fact]
    public void Fraction_is_covered_words_over_words()
    {
        var scores = new WordListScorer(List, WordListMode.Fraction).Score(["what a blow job", "ass ass fine", "fine", ""]);
        Assert.Equal([0.5, 2 / 3.0, 0, 0], scores);
    }

    [Fact]
    public void Match_counts_terms_and_words()
    {
        Assert.Equal(new WordListMatch(Words: 6, Terms: 2, CoveredWords: 3), List.Match("Ass, said the blow job guy"));
        Assert.Equal(4, List.TermCount); // the blank line is not a term
    }

    [Fact]
    public void Name_is_the_file_stem()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "my-list.txt");
        File.WriteAllLines(path, ["Darn", "heck"]);
        var scorer = new WordListScorer(path);
        Assert.Equal("wordlist:my-list", scorer.Name);
        Assert.Equal([1.0, 0.0], scorer.Score(["darn it", "fine"]));
    }

    [Fact]
    public void Ldnoobw_baseline_flags_obvious_profanity()
    {
        var scorer = new WordListScorer(TestPaths.Shared("wordlists", "ldnoobw-en.txt"));
        Assert.Equal("wordlist:ldnoobw-en", scorer.Name);
        Assert.Equal([1.0, 0.0], scorer.Score(["what the fuck", "what a lovely day"]));
    }
}
