using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Hugging Face `tokenizers` compiles Split patterns with Oniguruma in its Ruby syntax; this rewrites one into a .NET
/// pattern with the same meaning. Differences handled: possessive quantifiers (<c>X?+</c>, <c>X*+</c>, <c>X++</c>)
/// become atomic groups, while <c>X{n,m}+</c> is Ruby's repeat of a repeat, <c>(?:X{n,m})+</c>; <c>^</c>/<c>$</c> match
/// at line ends (Ruby's only meaning, hence <see cref="RegexOptions.Multiline"/>); the inline option <c>m</c> is Ruby's
/// dot-all, .NET's <c>s</c>; <c>\h</c> is a hex digit; <c>\x{HHHH}</c> is a code point; ignoring case, s also matches
/// ſ (U+017F), which folds to it (.NET leaves it out, though it has the Kelvin sign for k: Llama 3's <c>(?i:'s)</c>
/// would miss "'ſ"). Unicode classes (<c>\p{L}</c>, <c>\s</c>, <c>\w</c>) mean the same in both, per code point, which
/// <see cref="CodePointRegex"/> ensures for characters beyond the BMP. Constructs .NET lacks (nested classes, <c>&amp;&amp;</c>, POSIX brackets) are a
/// <see cref="FormatException"/>; other syntax errors are the <see cref="ArgumentException"/> of <see cref="Regex"/>.
/// </summary>
internal static class OnigurumaPattern
{
    /// <summary>The pattern compiled (matching is most of pre-tokenization), once per process for each pattern.</summary>
    internal static Regex ToDotNet(string pattern) =>
        Compiled.GetOrAdd(pattern, p => new Regex(Translate(p), RegexOptions.Multiline | RegexOptions.CultureInvariant | RegexOptions.Compiled));

    static readonly ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    internal static string Translate(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 16);
        var groups = new Stack<(int Start, bool IgnoreCase)>();   // open groups, and the case mode around each
        bool ignoreCase = false;
        int atomStart = -1;   // where the last quantifiable item begins in output
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            int start = output.Length;
            switch (c)
            {
                case '\\':
                    i = CopyEscape(pattern, i, output, inClass: false);
                    atomStart = start;
                    continue;
                case '[':
                    i = CopyClass(pattern, i, output, ignoreCase);
                    atomStart = start;
                    continue;
                case '(':
                    i = CopyGroupOpening(pattern, i, output, out string options);
                    // An option setting such as (?i) is no group: it holds to the end of the enclosing one.
                    if (output[^1] != ')') groups.Push((start, ignoreCase));
                    ignoreCase = IgnoresCase(options, ignoreCase);
                    atomStart = -1;
                    continue;
                case ')':
                    output.Append(c);
                    (atomStart, ignoreCase) = groups.Count > 0 ? groups.Pop() : (start, ignoreCase);
                    i++;
                    continue;
                case '*' or '+' or '?':
                    output.Append(c);
                    i = AfterQuantifier(pattern, i + 1, output, atomStart, counted: false);
                    continue;
                case '{' when CountedQuantifierLength(pattern, i) is int length and > 0:
                    output.Append(pattern, i, length);
                    i = AfterQuantifier(pattern, i + length, output, atomStart, counted: true);
                    continue;
                case '|' or '^' or '$':
                    output.Append(c);
                    atomStart = -1;
                    i++;
                    continue;
                default:
                    if (char.IsSurrogate(c)) throw new FormatException($"the literal character beyond the BMP at offset {i} is not supported");
                    if (ignoreCase && FoldedInto(c) is { } extra) output.Append('[').Append(c).Append(extra).Append(']');
                    else output.Append(c);
                    atomStart = start;
                    i++;
                    continue;
            }
        }
        return output.ToString();
    }

    /// <summary>After a quantifier: a following '+' makes it possessive (atomic) or, after {n,m}, repeats it.</summary>
    static int AfterQuantifier(string pattern, int i, StringBuilder output, int atomStart, bool counted)
    {
        if (i >= pattern.Length || pattern[i] != '+')
        {
            if (i < pattern.Length && pattern[i] == '?') { output.Append('?'); i++; }   // lazy: the same in both
            return i;
        }
        if (atomStart < 0) throw new FormatException($"a quantifier at offset {i} follows nothing it can repeat");
        output.Insert(atomStart, counted ? "(?:" : "(?>").Append(')');
        if (counted) output.Append('+');
        return i + 1;
    }

    /// <summary>Options such as "i", "-i", "im-x": those before the '-' are turned on, those after it off.</summary>
    static bool IgnoresCase(string options, bool current)
    {
        int at = options.IndexOf('i'), minus = options.IndexOf('-');
        return at < 0 ? current : minus < 0 || at < minus;
    }

    /// <summary>The character whose case fold is <paramref name="c"/> but that .NET's case-insensitive matching misses.</summary>
    static char? FoldedInto(char c) => c is 's' or 'S' ? '\u017F' : null;

    static int? CountedQuantifierLength(string pattern, int i)
    {
        var match = CountedQuantifier.Match(pattern, i);
        return match.Success && match.Index == i ? match.Length : null;
    }

    static readonly Regex CountedQuantifier = new(@"\{(\d+(,\d*)?|,\d+)\}", RegexOptions.CultureInvariant);

    /// <summary>Copies one escape sequence starting at the backslash; returns the index after it.</summary>
    static int CopyEscape(string pattern, int i, StringBuilder output, bool inClass)
    {
        if (i + 1 >= pattern.Length) throw new FormatException("the pattern ends with a lone backslash");
        char next = pattern[i + 1];
        switch (next)
        {
            case 'h':
                output.Append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]");
                return i + 2;
            case 'H' when !inClass:
                output.Append("[^0-9a-fA-F]");
                return i + 2;
            case 'x' when i + 2 < pattern.Length && pattern[i + 2] == '{':
                int close = pattern.IndexOf('}', i + 3);
                if (close < 0 || !int.TryParse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
                    throw new FormatException($"malformed \\x{{...}} at offset {i}");
                if (code > 0xFFFF) throw new FormatException($"the code point U+{code:X} beyond the BMP at offset {i} is not supported");
                output.Append($"\\u{code:X4}");
                return close + 1;
            case 'p' or 'P' when i + 2 < pattern.Length && pattern[i + 2] == '{':
                int end = pattern.IndexOf('}', i + 3);
                if (end < 0) throw new FormatException($"unterminated \\{next}{{ at offset {i}");
                string name = pattern[(i + 3)..end];
                // Oniguruma writes a negated property as \p{^L}.
                bool negated = name.StartsWith('^');
                output.Append('\\').Append(negated ^ (next == 'P') ? 'P' : 'p').Append('{').Append(negated ? name[1..] : name).Append('}');
                return end + 1;
            default:
                output.Append(pattern, i, 2);
                return i + 2;
        }
    }

    static int CopyClass(string pattern, int i, StringBuilder output, bool ignoreCase)
    {
        output.Append('[');
        i++;
        if (i < pattern.Length && pattern[i] == '^') { output.Append('^'); i++; }
        int contentStart = output.Length;
        if (i < pattern.Length && pattern[i] == ']') { output.Append(@"\]"); i++; }   // a leading ] is literal in both
        while (i < pattern.Length && pattern[i] != ']')
        {
            if (pattern[i] == '\\') { i = CopyEscape(pattern, i, output, inClass: true); continue; }
            if (pattern[i] == '[') throw new FormatException($"nested character classes and POSIX brackets (offset {i}) are not supported");
            if (pattern[i] == '&' && i + 1 < pattern.Length && pattern[i + 1] == '&')
                throw new FormatException($"class intersection && (offset {i}) is not supported");
            if (char.IsSurrogate(pattern[i])) throw new FormatException($"the literal character beyond the BMP at offset {i} is not supported");
            // At the front, where it cannot become the end of a range.
            if (ignoreCase && FoldedInto(pattern[i]) is { } extra && output.ToString(contentStart, output.Length - contentStart).IndexOf(extra) < 0)
                output.Insert(contentStart, extra);
            output.Append(pattern[i]);
            i++;
        }
        if (i >= pattern.Length) throw new FormatException("a character class is not closed");
        output.Append(']');
        return i + 1;
    }

    /// <summary>Copies "(", "(?:", "(?=", "(?&lt;name&gt;", "(?i:" or an option setting "(?i)"; Ruby's option m is .NET's s.</summary>
    static int CopyGroupOpening(string pattern, int i, StringBuilder output, out string options)
    {
        options = "";
        output.Append('(');
        i++;
        if (i >= pattern.Length || pattern[i] != '?') return i;
        output.Append('?');
        i++;
        int optionsEnd = i;
        while (optionsEnd < pattern.Length && pattern[optionsEnd] is 'i' or 'm' or 'x' or '-') optionsEnd++;
        if (optionsEnd > i && optionsEnd < pattern.Length && pattern[optionsEnd] is ':' or ')')
        {
            options = pattern[i..optionsEnd];
            output.Append(options.Replace('m', 's')).Append(pattern[optionsEnd]);
            return optionsEnd + 1;
        }
        if (i < pattern.Length && pattern[i] is '<' or '\'' && i + 1 < pattern.Length && pattern[i + 1] is not ('=' or '!'))
        {
            // A group name, copied whole so that no rewriting touches it.
            int close = pattern.IndexOf(pattern[i] == '<' ? '>' : '\'', i + 1);
            if (close < 0) throw new FormatException($"unterminated group name at offset {i}");
            output.Append(pattern, i, close - i + 1);
            return close + 1;
        }
        return i;   // (?:, (?=, (?!, (?<=, (?<!, (?>: the same in both, copied as they come
    }
}
