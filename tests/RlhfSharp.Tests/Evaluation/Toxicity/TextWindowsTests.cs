using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class TextWindowsTests
{
    [Fact]
    public void A_text_that_fits_is_one_window_of_everything()
    {
        Assert.Equal([new TextWindow(0, 3)], TextWindows.Spans([2, 1, 1], 4));
        Assert.Equal([new TextWindow(0, 0)], TextWindows.Spans([], 4));
    }

    [Fact]
    public void Windows_of_the_budget_start_half_a_budget_apart()
    {
        // 9 one-piece units, budget 4, stride 2: [0,4) [2,6) [4,8), then [6,9) reaches the end.
        Assert.Equal([new(0, 4), new(2, 4), new(4, 4), new TextWindow(6, 3)], TextWindows.Spans(Enumerable.Repeat(1, 9).ToList(), 4));
    }

    [Fact]
    public void Units_of_several_pieces_fill_a_window_up_to_the_budget()
    {
        // lengths 3 2 2 3 1, budget 5, stride 2:
        // window 1 from 0: 3+2 = 5, +2 would be 7 > 5, so [0,2); next start: skip unit 0 (3 pieces >= stride 2) -> 1.
        // window 2 from 1: 2+2 = 4, +3 = 7 > 5, so [1,3); next start: skip unit 1 (2 >= 2) -> 2.
        // window 3 from 2: 2+3 = 5, +1 = 6 > 5, so [2,4); next start 3.
        // window 4 from 3: 3+1 = 4, reaches the end: [3,5).
        Assert.Equal([new(0, 2), new(1, 2), new(2, 2), new TextWindow(3, 2)], TextWindows.Spans([3, 2, 2, 3, 1], 5));
    }

    [Fact]
    public void A_unit_longer_than_the_budget_is_a_window_of_its_own()
    {
        // budget 4: unit 1 (9 pieces) cannot share; each window still moves on.
        Assert.Equal([new(0, 1), new(1, 1), new TextWindow(2, 1)], TextWindows.Spans([2, 9, 2], 4));
    }
}

public class ToxicityScoringTests
{
    [Fact]
    public void Blank_texts_score_zero_without_reaching_the_model_and_long_ones_score_their_most_toxic_window()
    {
        var seen = new List<string>();
        // Windows: "a|b" is split at "|"; the model scores a window by its length / 10.
        var scores = ToxicityScoring.Score(["", "  \n\t", "abc", "a|bbbbb|cc"], text => text.Split('|'), windows =>
        {
            seen.AddRange(windows);
            return windows.Select(w => w.Length / 10.0).ToList();
        });
        Assert.Equal([0, 0, 0.3, 0.5], scores);
        Assert.Equal(["abc", "a", "bbbbb", "cc"], seen); // one batch, blank texts never sent
    }

    [Fact]
    public void Only_blank_texts_never_call_the_model()
    {
        var scores = ToxicityScoring.Score(["", " "], ToxicityScoring.Whole, (IReadOnlyList<string> _) => throw new InvalidOperationException("called"));
        Assert.Equal([0, 0], scores);
    }
}

public class TextSentencesTests
{
    [Fact]
    public void Sentences_end_at_stops_and_line_breaks_and_keep_their_stop()
    {
        Assert.Equal(["Hi there!", "Is it you?", "Yes...", "it is", "new line"],
            TextWindows.Sentences("Hi there! Is it you?  Yes... it is\r\n new line\n\n ... "));
    }

    [Fact]
    public void Short_sentences_join_the_next_and_the_last_joins_the_one_before()
    {
        // "U.S." splits into "U." and "S.": with three words at least, neither letter is a window of its own.
        Assert.Equal(["Born in the U.", "S. Constitution came later.", "Shut up, idiot.", "Go away now. Bye."],
            TextWindows.Sentences("Born in the U.S. Constitution came later. Shut up, idiot. Go away now. Bye.", minWords: 3));
        Assert.Equal(["Hi there! Is it you?", "Yes... it is\r\n new line"],
            TextWindows.Sentences("Hi there! Is it you?  Yes... it is\r\n new line\n\n ... ", minWords: 3));
        Assert.Equal(["You suck."], TextWindows.Sentences("You suck.", minWords: 3)); // too short, but all there is
    }
}
