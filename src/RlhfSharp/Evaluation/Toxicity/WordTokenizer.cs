using System.Globalization;
using System.Text;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Splits text into lower-case words for word-list matching: runs of letters, digits and marks are words,
/// a symbol such as an emoji is a word by itself, and everything else (spaces, punctuation) separates.
/// Terms are split the same way, so "g-spot" matches "g spot" and "G-Spot".
/// </summary>
internal static class WordTokenizer
{
    public static List<string> Split(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                    or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
                    or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber or UnicodeCategory.NonSpacingMark
                    or UnicodeCategory.SpacingCombiningMark:
                    current.Append(Rune.ToLowerInvariant(rune).ToString());
                    break;
                case UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol:
                    Flush(words, current);
                    words.Add(rune.ToString());
                    break;
                default:
                    Flush(words, current);
                    break;
            }
        }
        Flush(words, current);
        return words;
    }

    static void Flush(List<string> words, StringBuilder current)
    {
        if (current.Length == 0) return;
        words.Add(current.ToString());
        current.Clear();
    }
}
