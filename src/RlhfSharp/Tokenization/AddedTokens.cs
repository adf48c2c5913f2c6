using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>
/// An entry of tokenizer.json's added_tokens (or a special token text the model's files name). <paramref name="Normalized"/>
/// tokens are looked for in the normalized text, the others in the raw input; <paramref name="SingleWord"/> ones only
/// where no word character touches them; <paramref name="LStrip"/>/<paramref name="RStrip"/> ones swallow the
/// whitespace on that side.
/// </summary>
internal sealed record AddedToken(string Content, int Id, bool Special, bool Normalized, bool LStrip = false, bool RStrip = false, bool SingleWord = false);

/// <summary>
/// Finds added tokens in text as tokenizers' AddedVocabulary does: leftmost-longest literal matches (a candidate that
/// fails its single_word test is skipped, not retried shorter), whitespace stripping bounded by the previous match.
/// </summary>
internal sealed class AddedTokenSplitter
{
    readonly Regex? _alternatives;
    readonly Dictionary<string, AddedToken> _byText;

    /// <param name="textOf">The text to look for, per token (its content, or its normalized content).</param>
    internal AddedTokenSplitter(IEnumerable<AddedToken> tokens, Func<AddedToken, string> textOf)
    {
        _byText = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (var token in tokens)
            if (textOf(token) is { Length: > 0 } text) _byText.TryAdd(text, token);
        if (_byText.Count == 0) return;
        // Longest first: at one start position .NET takes the first alternative that matches.
        var ordered = _byText.Keys.OrderByDescending(text => text.Length).ThenBy(text => text, StringComparer.Ordinal);
        _alternatives = new Regex(string.Join('|', ordered.Select(Regex.Escape)), RegexOptions.CultureInvariant);
    }

    /// <summary>
    /// <paramref name="text"/> cut into pieces that are either plain text (Token null) or one added token. Empty plain
    /// pieces are left out.
    /// </summary>
    internal List<(string Text, AddedToken? Token)> Split(string text)
    {
        var result = new List<(string, AddedToken?)>();
        if (_alternatives is null || text.Length == 0)
        {
            if (text.Length > 0) result.Add((text, null));
            return result;
        }
        int done = 0;
        foreach (var match in _alternatives.EnumerateMatches(text))
        {
            int start = match.Index, end = match.Index + match.Length;
            var token = _byText[text.Substring(start, match.Length)];
            if (token.SingleWord && (EndsWithWord(text.AsSpan(0, start)) || StartsWithWord(text.AsSpan(end)))) continue;
            if (token.LStrip)
                while (start > done && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip)
                while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > done) result.Add((text[done..start], null));
            result.Add((text[start..end], token));
            done = end;
        }
        if (done < text.Length) result.Add((text[done..], null));
        return result;
    }

    // Rust regex's Unicode \w: letters, marks, decimal and letter numbers, connector punctuation.
    static bool IsWord(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.DecimalDigitNumber
            or UnicodeCategory.LetterNumber or UnicodeCategory.ConnectorPunctuation => true,
        _ => false,
    };

    static bool EndsWithWord(ReadOnlySpan<char> text) => Rune.DecodeLastFromUtf16(text, out var rune, out _) == System.Buffers.OperationStatus.Done && IsWord(rune);

    static bool StartsWithWord(ReadOnlySpan<char> text) => Rune.DecodeFromUtf16(text, out var rune, out _) == System.Buffers.OperationStatus.Done && IsWord(rune);
}
