using System.Net;
using System.Text;

namespace RlhfSharp.Evaluation.Human;

/// <summary>Renders a pairwise report as one self-contained HTML page (inline CSS, no scripts, every string encoded).</summary>
static class PairwiseHtml
{
    const string Style = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        + "table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .7rem;text-align:right}"
        + "th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}";

    public static string Render(PairwiseReport report)
    {
        string title = WebUtility.HtmlEncode(ReportContent.Title(report));
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(title)
            .Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n<h1>").Append(title).Append("</h1>\n");
        Table(html, ReportContent.Headline(report));
        foreach (string finding in ReportContent.Findings(report))
            html.Append("<p>").Append(WebUtility.HtmlEncode(finding)).Append("</p>\n");
        foreach (var table in ReportContent.Breakdowns(report)) Table(html, table);
        return html.Append("</body>\n</html>\n").ToString();
    }

    static void Table(StringBuilder html, ReportTable table)
    {
        if (table.Title != null) html.Append("<h2>").Append(WebUtility.HtmlEncode(table.Title)).Append("</h2>\n");
        html.Append("<table>\n");
        Row(html, "th", table.Header);
        foreach (var row in table.Rows) Row(html, "td", row);
        html.Append("</table>\n");
    }

    static void Row(StringBuilder html, string tag, IEnumerable<string> cells) => html.Append("<tr>")
        .Append(string.Concat(cells.Select(c => $"<{tag}>{WebUtility.HtmlEncode(c)}</{tag}>"))).Append("</tr>\n");
}
