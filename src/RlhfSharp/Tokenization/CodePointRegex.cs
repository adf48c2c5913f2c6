using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>
/// A .NET regex run over code points, as Oniguruma and Rust's regex run over UTF-8. .NET matches UTF-16 units, so a
/// character beyond the BMP (an emoji, a CJK Extension B ideograph, a mathematical digit) is two surrogates that are
/// neither \p{L} nor \p{N}, and <c>[^\p{L}\p{N}]?</c> would take half of it. Before matching, each such character is
/// replaced by one BMP character of the same Unicode category (every \p{..}, \s, \w and \d test depends only on the
/// category), and match positions are mapped back to the original text.
/// </summary>
internal sealed class CodePointRegex(Regex regex)
{
    public Regex Regex { get; } = regex;

    /// <summary>The matches as (start, end) offsets in <paramref name="text"/>, leftmost first, empty ones left out.</summary>
    internal List<(int Start, int End)> Matches(string text)
    {
        var result = new List<(int, int)>();
        if (!HasSurrogatePair(text))
        {
            foreach (var match in Regex.EnumerateMatches(text))
                if (match.Length > 0) result.Add((match.Index, match.Index + match.Length));
            return result;
        }

        var (projected, originalIndex) = Project(text);
        foreach (var match in Regex.EnumerateMatches(projected))
            if (match.Length > 0) result.Add((originalIndex[match.Index], originalIndex[match.Index + match.Length]));
        return result;
    }

    static bool HasSurrogatePair(string text)
    {
        for (int i = 0; i + 1 < text.Length; i++)
            if (char.IsSurrogatePair(text[i], text[i + 1])) return true;
        return false;
    }

    /// <summary>One char per code point, and for each char of the projection (and its end) the offset in the original.</summary>
    static (string Projected, int[] OriginalIndex) Project(string text)
    {
        var projected = new StringBuilder(text.Length);
        var originalIndex = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            originalIndex.Add(i);
            if (i + 1 < text.Length && char.IsSurrogatePair(text[i], text[i + 1]))
            {
                projected.Append(Representative[(int)CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))]);
                i++;
            }
            else
            {
                projected.Append(text[i]);
            }
        }
        originalIndex.Add(text.Length);
        return (projected.ToString(), originalIndex.ToArray());
    }

    // For each Unicode category, a non-ASCII BMP character of it (so no ASCII literal in a pattern can match it by
    // accident). Every category a supplementary code point can have occurs in the BMP.
    static readonly char[] Representative = BuildRepresentatives();

    static char[] BuildRepresentatives()
    {
        var result = new char[Enum.GetValues<UnicodeCategory>().Length];
        for (int c = 0xFFFF; c >= 0x80; c--)   // downwards, so the lowest such character wins
            if (!char.IsSurrogate((char)c)) result[(int)CharUnicodeInfo.GetUnicodeCategory((char)c)] = (char)c;
        return result;
    }
}
