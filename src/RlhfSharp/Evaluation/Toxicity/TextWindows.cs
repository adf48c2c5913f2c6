using System.Text.RegularExpressions;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>A run of units (tokens or words) of a text: the first unit's index and how many.</summary>
public readonly record struct TextWindow(int Start, int Count);

/// <summary>
/// Overlapping windows over a text too long for a model: each holds at most <c>budget</c> pieces, and each starts
/// about half a budget after the one before, so a passage of up to half a budget lies whole in some window.
/// </summary>
public static partial class TextWindows
{
    /// <summary>
    /// Windows over units of the given lengths in pieces: one window of everything when the total fits. A single unit
    /// longer than the budget is a window of its own (the model cuts it).
    /// </summary>
    public static IReadOnlyList<TextWindow> Spans(IReadOnlyList<int> lengths, int budget)
    {
        if (budget < 1) throw new ArgumentOutOfRangeException(nameof(budget), budget, "a window holds at least one piece");
        if (lengths.Sum() <= budget) return [new TextWindow(0, lengths.Count)];
        int stride = Math.Max(1, budget / 2);
        var windows = new List<TextWindow>();
        for (int start = 0; ;)
        {
            int end = start, pieces = 0;
            while (end < lengths.Count && (end == start || pieces + lengths[end] <= budget)) pieces += lengths[end++];
            windows.Add(new TextWindow(start, end - start));
            if (end == lengths.Count) return windows;
            int next = start, skipped = 0;
            while (next < end - 1 && skipped < stride) skipped += lengths[next++];
            start = next == start ? end : next;
        }
    }

    /// <summary>
    /// The text's sentences, trimmed, in order: runs ending at . ! ? (kept) or a line break. Abbreviations split too, so
    /// a sentence of fewer than <paramref name="minWords"/> words is joined to the next (the last to the one before),
    /// cut from the text as written: alone, a fragment like "S." of "U.S." or "F." scored 0.98, a letter the head had
    /// only seen standing for a swear word.
    /// </summary>
    public static IReadOnlyList<string> Sentences(string text, int minWords = 1)
    {
        var spans = new List<(int Start, int End)>();
        int start = -1, end = 0, words = 0;
        foreach (Match sentence in Sentence().Matches(text))
        {
            int count = Word().Matches(sentence.Value).Count(w => w.Value.Any(char.IsLetterOrDigit));
            if (count == 0) continue;
            if (start < 0) start = sentence.Index;
            (end, words) = (sentence.Index + sentence.Length, words + count);
            if (words < minWords) continue;
            spans.Add((start, end));
            (start, words) = (-1, 0);
        }
        if (start >= 0)
        {
            if (spans.Count > 0) (start, spans) = (spans[^1].Start, spans[..^1]);
            spans.Add((start, end));
        }
        return spans.Select(span => text[span.Start..span.End].Trim()).ToList();
    }

    /// <summary>Runs of non-space characters: the words the windows are cut between.</summary>
    [GeneratedRegex(@"\S+")]
    internal static partial Regex Word();

    [GeneratedRegex(@"[^.!?\r\n]+[.!?]*")]
    private static partial Regex Sentence();
}
