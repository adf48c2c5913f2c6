using System.Globalization;
using System.Text;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Hugging Face's pre-tokenizer steps as used by byte-level BPE models: each step splits every piece the previous step
/// left (Sequence), and BPE then runs on each final piece on its own. Pieces are strings because ByteLevel's
/// add_prefix_space adds text.
/// </summary>
internal sealed class PreTokenizerPipeline(IReadOnlyList<IPreTokenizerStep> steps)
{
    /// <summary>GPT-2's: ByteLevel with its regex, no prefix space.</summary>
    internal static readonly PreTokenizerPipeline Gpt2 = new([new ByteLevelStep(addPrefixSpace: false, useRegex: true)]);

    public IReadOnlyList<IPreTokenizerStep> Steps { get; } = steps;

    internal List<string> Split(string text)
    {
        var pieces = new List<string> { text };
        foreach (var step in Steps)
        {
            var next = new List<string>(pieces.Count * 2);
            foreach (string piece in pieces) step.Split(piece, next);
            pieces = next;
        }
        pieces.RemoveAll(piece => piece.Length == 0);
        return pieces;
    }
}

internal interface IPreTokenizerStep
{
    /// <summary>Adds the pieces <paramref name="piece"/> splits into to <paramref name="output"/>.</summary>
    void Split(string piece, List<string> output);
}

/// <summary>What Split does with the matches of its pattern (tokenizers' SplitDelimiterBehavior).</summary>
internal enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// Cuts a text into segments that alternate between matches and the text between them, then combines them per
/// <see cref="SplitBehavior"/> as tokenizers' NormalizedString.split does. Each match is its own segment (adjacent
/// matches stay apart); invert swaps which segments count as matches.
/// </summary>
internal static class Segments
{
    internal static void Combine(string text, List<(int Start, int End, bool IsMatch)> segments, SplitBehavior behavior, List<string> output)
    {
        var pieces = new List<(int Start, int End)>();
        switch (behavior)
        {
            case SplitBehavior.Removed:
                pieces.AddRange(segments.Where(s => !s.IsMatch).Select(s => (s.Start, s.End)));
                break;
            case SplitBehavior.Isolated:
                pieces.AddRange(segments.Select(s => (s.Start, s.End)));
                break;
            case SplitBehavior.MergedWithPrevious:
            case SplitBehavior.Contiguous:
                bool previousMatch = false;
                foreach (var (start, end, isMatch) in segments)
                {
                    bool join = behavior == SplitBehavior.MergedWithPrevious ? isMatch && !previousMatch : isMatch == previousMatch;
                    if (join && pieces.Count > 0) pieces[^1] = (pieces[^1].Start, end);
                    else pieces.Add((start, end));
                    previousMatch = isMatch;
                }
                break;
            case SplitBehavior.MergedWithNext:
                bool nextMatch = false;
                for (int i = segments.Count - 1; i >= 0; i--)
                {
                    var (start, end, isMatch) = segments[i];
                    if (isMatch && !nextMatch && pieces.Count > 0) pieces[^1] = (start, pieces[^1].End);
                    else pieces.Add((start, end));
                    nextMatch = isMatch;
                }
                pieces.Reverse();
                break;
        }
        foreach (var (start, end) in pieces)
            if (end > start) output.Add(text[start..end]);
    }

    /// <summary>Matches and the gaps between them, covering <paramref name="text"/>.</summary>
    internal static List<(int Start, int End, bool IsMatch)> FromMatches(string text, IEnumerable<(int Start, int End)> matches, bool invert)
    {
        var segments = new List<(int, int, bool)>();
        int previous = 0;
        foreach (var (start, end) in matches)
        {
            if (start > previous) segments.Add((previous, start, invert));
            segments.Add((start, end, !invert));
            previous = end;
        }
        if (previous < text.Length) segments.Add((previous, text.Length, invert));
        return segments;
    }
}

/// <summary>Split: a regex (or a literal, escaped) and what to do with its matches.</summary>
internal sealed class RegexSplitStep(CodePointRegex pattern, SplitBehavior behavior, bool invert) : IPreTokenizerStep
{
    public void Split(string piece, List<string> output) =>
        Segments.Combine(piece, Segments.FromMatches(piece, pattern.Matches(piece), invert), behavior, output);
}

/// <summary>Digits: every numeric code point (categories Nd, Nl, No, as Rust's char::is_numeric) alone, or runs of them together.</summary>
internal sealed class DigitsStep(bool individualDigits) : IPreTokenizerStep
{
    public void Split(string piece, List<string> output)
    {
        var matches = new List<(int, int)>();
        int index = 0;
        foreach (var rune in piece.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber)
                matches.Add((index, index + rune.Utf16SequenceLength));
            index += rune.Utf16SequenceLength;
        }
        Segments.Combine(piece, Segments.FromMatches(piece, matches, invert: false),
            individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, output);
    }
}

/// <summary>
/// ByteLevel as a pre-tokenizer: optionally a space before each piece that lacks one, optionally GPT-2's split. The
/// byte-to-symbol mapping itself happens in the BPE model (<see cref="ByteLevelBpe"/>), on every piece.
/// </summary>
internal sealed class ByteLevelStep(bool addPrefixSpace, bool useRegex) : IPreTokenizerStep
{
    static readonly CodePointRegex Gpt2 = new(ByteLevelBpe.Gpt2Split());

    public bool AddPrefixSpace { get; } = addPrefixSpace;

    public bool UseRegex { get; } = useRegex;

    public void Split(string piece, List<string> output)
    {
        if (AddPrefixSpace && !piece.StartsWith(' ')) piece = " " + piece;
        if (!UseRegex) output.Add(piece);
        else Segments.Combine(piece, Segments.FromMatches(piece, Gpt2.Matches(piece), invert: false), SplitBehavior.Isolated, output);
    }
}
