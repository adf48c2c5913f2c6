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
    /// The text's sentences, trimmed, in order: runs ending at . ! ? (kept) or a line break. Abbreviations split too;
    /// a piece of a sentence is still a fair window.
    /// </summary>
    public static IReadOnlyList<string> Sentences(string text) =>
        Sentence().Matches(text).Select(m => m.Value.Trim()).Where(sentence => sentence.Any(char.IsLetterOrDigit)).ToList();

    [GeneratedRegex(@"[^.!?\r\n]+[.!?]*")]
    private static partial Regex Sentence();
}
