using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Rewards;

/// <summary>The built-in rule rewards on hand-checked completions.</summary>
public class RuleRewardTests
{
    static RewardSample Sample(string completion, string? answer) =>
        new("Q?", completion, answer is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["answer"] = answer });

    static double Exact(string completion, string? answer, ExactMatchMode mode = ExactMatchMode.Exact) =>
        new ExactMatchReward(mode: mode).Score([Sample(completion, answer)])[0];

    [Theory]
    // GSM8K: the reference's "#### 72" tail against the completion's own "####" line.
    [InlineData(" Natalia sold 48/2 = 24 clips in May.\n#### 72", "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72", 1)]
    [InlineData(" 48 + 24 = 72\n#### 73", "...\n#### 72", 0)]
    // The marker's line only: what follows on later lines (the model's next question) is not the answer.
    [InlineData(" #### 72\n\nQuestion: 5 + 5 = 10", "#### 72", 1)]
    // Without a marker a numeric reference is the completion's last number.
    [InlineData(" She sold 48 in April and 24 in May, so 72 in all.", "#### 72", 1)]
    [InlineData(" 72 at first, then 73.", "72", 0)]
    // Thousands commas, a trailing period and a sign; numbers compare by value.
    [InlineData(" The total is 1,234.", "#### 1234", 1)]
    [InlineData(" -5", "-5", 1)]
    [InlineData(" 72.0", "72", 1)]
    [InlineData(" #### $1,234.", "1,234", 1)]
    // Text references: trimmed, case and trailing periods ignored, otherwise the whole completion.
    [InlineData(" Paris.", "paris", 1)]
    [InlineData(" The capital of France is Paris.", "Paris", 0)]
    [InlineData(" no number here", "42", 0)]
    public void Exact_match_reads_gsm8k_tails_and_numbers(string completion, string answer, double expected)
    {
        Assert.Equal(expected, Exact(completion, answer));
    }

    [Theory]
    [InlineData(" The capital of France is Paris.", "Paris", 1)]
    [InlineData(" PARIS, of course", "paris", 1)]
    [InlineData(" Parisian food", "Paris", 0)] // whole words only
    [InlineData(" It is New York City.", "new york", 1)]
    [InlineData(" about 1,234 of them", "#### 1234", 1)]
    [InlineData(" 12345", "1234", 0)]
    public void Contains_mode_finds_the_reference_as_whole_words(string completion, string answer, double expected)
    {
        Assert.Equal(expected, Exact(completion, answer, ExactMatchMode.Contains));
    }

    [Fact]
    public void A_row_without_the_field_or_with_it_empty_scores_zero()
    {
        Assert.Equal(0, Exact("42", null));
        Assert.Equal(0, Exact("", ""));
        Assert.Equal([0.0], new ExactMatchReward("solution").Score([Sample("42", "42")]));
        Assert.Equal([1.0], new ExactMatchReward("solution").Score([new RewardSample("Q?", "42", new Dictionary<string, string> { ["solution"] = "#### 42" })]));
    }

    [Theory]
    [InlineData("^<think>.*</think>", "<think>hm</think> 4", 1)]
    [InlineData("^<think>.*</think>", " <think>hm</think> 4", 0)] // anchored: the completion starts with a space
    [InlineData("answer: \\d+", "so the answer: 42, done", 1)] // a search: anywhere in the completion
    [InlineData("a.b", "a\nb", 0)] // "." stops at a newline...
    [InlineData("(?s)a.b", "a\nb", 1)] // ...unless the pattern says (?s)
    public void Regex_searches_the_completion(string pattern, string completion, double expected)
    {
        Assert.Equal([expected], new RegexReward(pattern).Score([new RewardSample("Q?", completion)]));
    }

    [Fact]
    public void An_invalid_regex_says_why()
    {
        var error = Assert.Throws<RlhfException>(() => new RegexReward("(unclosed"));
        Assert.StartsWith("invalid regular expression '(unclosed': ", error.Message);
    }

    [Theory]
    // -max(0, length - max) / max
    [InlineData(3, 4, 0.0)]     // under the target: no penalty
    [InlineData(4, 4, 0.0)]     // at it: none
    [InlineData(5, 4, -0.25)]   // -(5 - 4) / 4
    [InlineData(8, 4, -1.0)]    // twice the target: -(8 - 4) / 4
    [InlineData(10, 4, -1.5)]   // -(10 - 4) / 4
    public void Length_penalty_is_the_excess_over_the_target(int length, int max, double expected)
    {
        Assert.Equal(expected, LengthReward.Penalty(length, max));
        Assert.Equal([expected], new LengthReward(max, LengthUnit.Characters).Score([new RewardSample("Q?", new string('x', length))]));
    }

    [Fact]
    public void Length_in_tokens_counts_the_policys_tokens()
    {
        var tokenizer = TokenizerLoader.FromDirectory(TestPaths.Shared("gpt2-tokenizer"))!;
        // GPT-2: " hello world hello world" is 4 tokens, " hello" 1; 24 characters.
        Assert.Equal(4, tokenizer.Encode(" hello world hello world").Count);
        var samples = new[] { new RewardSample("Q?", " hello world hello world"), new RewardSample("Q?", " hello") };
        Assert.Equal([-1.0, 0.0], new LengthReward(2, LengthUnit.Tokens, tokenizer).Score(samples)); // -(4 - 2) / 2, then 1 <= 2
        Assert.Equal([-(24 - 2) / 2.0, -(6 - 2) / 2.0], new LengthReward(2, LengthUnit.Characters).Score(samples));
    }
}
