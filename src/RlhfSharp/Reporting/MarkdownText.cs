using System.Text;

namespace RlhfSharp.Reporting;

/// <summary>
/// The one escaping rule for Markdown (CommonMark with GitHub's extensions: tables, strikethrough, math): any text
/// comes out as text, and ordinary text (words, numbers, everyday punctuation) comes out unchanged.
/// </summary>
internal static class MarkdownText
{
    /// <summary>Read as markup anywhere in a line: escapes, code, emphasis, strikethrough, links, HTML, table cells,
    /// heading marks, entities and math.</summary>
    const string MarkupCharacters = @"\`*~[]<|#&$";

    /// <summary>Read as markup only where a line starts: bullet lists, thematic breaks and quotes.</summary>
    const string LineStartCharacters = "-+>";

    /// <summary>
    /// <paramref name="text"/> as Markdown that shows it as it is: a backslash before each character that could start
    /// markup (CommonMark allows one before any ASCII punctuation); "_" only where it is not inside a word, since
    /// inside one it never makes emphasis; each line break as &lt;br&gt;, so the text stays on its line (a table row,
    /// or a paragraph that no later line can turn into a heading, list or quote). With <paramref name="atLineStart"/>,
    /// a list, quote or ordered-list mark at the start is escaped too.
    /// </summary>
    public static string Escape(string text, bool atLineStart = false)
    {
        var markdown = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\r' || c == '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                markdown.Append("<br>");
                continue;
            }
            if (MarkupCharacters.Contains(c) || c == '_' && !InsideWord(text, i) || atLineStart && (i == 0 && LineStartCharacters.Contains(c) || EndsListNumber(text, i)))
                markdown.Append('\\');
            markdown.Append(c);
        }
        return markdown.ToString();
    }

    /// <summary><paramref name="code"/> as a code span: fenced by one backtick more than its longest run of them, line
    /// breaks as spaces (as CommonMark reads them anyway), and in a table cell "|" escaped, the one character GitHub
    /// reads inside a code span there.</summary>
    public static string CodeSpan(string code, bool inTableCell = false)
    {
        string content = code.ReplaceLineEndings(" ");
        if (inTableCell) content = content.Replace("|", "\\|");
        string fence = new('`', LongestRun(content, '`') + 1);
        // A space inside each fence keeps a backtick at either end, or spaces at both, from being read as the fence's.
        bool pad = content.StartsWith('`') || content.EndsWith('`') || content.Length > 1 && content[0] == ' ' && content[^1] == ' ' && content.Trim().Length > 0;
        return pad ? $"{fence} {content} {fence}" : $"{fence}{content}{fence}";
    }

    /// <summary>A fenced code block: three backticks, or one more than the longest run inside, so nothing in
    /// <paramref name="code"/> can close it early.</summary>
    public static string CodeBlock(string code, string? language)
    {
        string fence = new('`', Math.Max(3, LongestRun(code, '`') + 1));
        return $"{fence}{language}\n{code}\n{fence}\n";
    }

    /// <summary>Whether text[i] is the "." or ")" of an ordered-list mark: digits from the start, then a space or the end.</summary>
    static bool EndsListNumber(string text, int i) =>
        text[i] is '.' or ')' && i > 0 && text[..i].All(char.IsAsciiDigit) && (i + 1 == text.Length || text[i + 1] is ' ' or '\t');

    static bool InsideWord(string text, int i) => i > 0 && i + 1 < text.Length && char.IsLetterOrDigit(text[i - 1]) && char.IsLetterOrDigit(text[i + 1]);

    static int LongestRun(string text, char c)
    {
        int longest = 0, run = 0;
        foreach (char x in text)
        {
            run = x == c ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        return longest;
    }
}
