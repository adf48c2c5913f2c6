using System.Text;

namespace RlhfSharp.Evaluation.Human;

/// <summary>Renders a pairwise report as GitHub-flavoured Markdown.</summary>
static class PairwiseMarkdown
{
    public static string Render(PairwiseReport report)
    {
        var md = new StringBuilder();
        md.Append("# ").Append(Escape(ReportContent.Title(report))).Append("\n\n");
        Table(md, ReportContent.Headline(report));
        foreach (string finding in ReportContent.Findings(report)) md.Append(Escape(finding)).Append("\n\n");
        foreach (var table in ReportContent.Breakdowns(report)) Table(md, table);
        return md.ToString().TrimEnd() + "\n";
    }

    static void Table(StringBuilder md, ReportTable table)
    {
        if (table.Title != null) md.Append("## ").Append(Escape(table.Title)).Append("\n\n");
        Line(md, table.Header);
        md.Append('|').Append(string.Concat(table.Header.Select((_, i) => i == 0 ? "---|" : "---:|"))).Append('\n');
        foreach (var row in table.Rows) Line(md, row);
        md.Append('\n');
    }

    static void Line(StringBuilder md, IEnumerable<string> cells) =>
        md.Append('|').Append(string.Concat(cells.Select(c => c.Length == 0 ? " |" : $" {Escape(c)} |"))).Append('\n');

    /// <summary>Backslash before the characters that would make a model or annotator name into markup (CommonMark
    /// allows it before any ASCII punctuation), so a name like "&lt;script&gt;" or "a|b" stays text.</summary>
    static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (@"\`*_[]<>|#".Contains(c)) escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }
}
