using System.Net;
using System.Text;

namespace RlhfSharp.Cli.Demo;

/// <summary>
/// A report as a list of blocks rendered twice, to Markdown and to one self-contained HTML page (inline CSS,
/// images embedded), so both always say the same thing.
/// </summary>
public sealed class ReportDocument(string title)
{
    abstract record Block;
    sealed record HeadingBlock(string Text) : Block;
    sealed record ParagraphBlock(string Text) : Block;
    sealed record TableBlock(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) : Block;
    sealed record ImageBlock(string RelativePath, string AbsolutePath, string Alt) : Block;
    sealed record CodeBlock(string Text) : Block;

    readonly List<Block> _blocks = [];

    public ReportDocument Heading(string text) => Add(new HeadingBlock(text));
    public ReportDocument Paragraph(string text) => Add(new ParagraphBlock(text));
    public ReportDocument Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows) => Add(new TableBlock(header, rows.ToList()));
    public ReportDocument Code(string text) => Add(new CodeBlock(text));

    /// <summary>An image: linked by <paramref name="relativePath"/> in Markdown, embedded in HTML; left out when the file is missing.</summary>
    public ReportDocument Image(string relativePath, string absolutePath, string alt) =>
        File.Exists(absolutePath) ? Add(new ImageBlock(relativePath, absolutePath, alt)) : this;

    ReportDocument Add(Block block)
    {
        _blocks.Add(block);
        return this;
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder($"# {title}\n");
        foreach (var block in _blocks)
        {
            md.Append('\n');
            switch (block)
            {
                case HeadingBlock h: md.Append($"## {h.Text}\n"); break;
                case ParagraphBlock p: md.Append(p.Text).Append('\n'); break;
                case ImageBlock i: md.Append($"![{i.Alt}]({i.RelativePath})\n"); break;
                case CodeBlock c: md.Append("```bash\n").Append(c.Text.TrimEnd()).Append("\n```\n"); break;
                case TableBlock t:
                    md.Append("| ").Append(string.Join(" | ", t.Header.Select(MdCell))).Append(" |\n");
                    md.Append('|').Append(string.Concat(t.Header.Select(_ => "---|"))).Append('\n');
                    foreach (var row in t.Rows) md.Append("| ").Append(string.Join(" | ", row.Select(MdCell))).Append(" |\n");
                    break;
            }
        }
        return md.ToString();

        static string MdCell(string s) => s.Replace("|", "\\|").Replace("\n", "<br>");
    }

    const string Style =
        "body{font-family:'DejaVu Sans',system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1.2rem;color:#1d1d1f;line-height:1.45}"
        + "h1{font-size:1.7rem;margin-bottom:.3rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}"
        + "table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}th,td{border:1px solid #d0d0d0;padding:.35rem .7rem;vertical-align:top;text-align:left}"
        + "th{background:#f2f4f7}tr:nth-child(even) td{background:#fafbfc}img{max-width:100%;border:1px solid #e2e2e2}"
        + "pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;font-size:.85rem}code{font-family:'DejaVu Sans Mono',monospace}"
        + ".pass{color:#137333;font-weight:bold}.fail{color:#b3261e;font-weight:bold}";

    public string ToHtml()
    {
        string Encode(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append($"<title>{Encode(title)}</title>\n<style>{Style}</style>\n</head>\n<body>\n<h1>{Encode(title)}</h1>\n");
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case HeadingBlock h: html.Append($"<h2>{Encode(h.Text)}</h2>\n"); break;
                case ParagraphBlock p: html.Append($"<p>{Inline(p.Text)}</p>\n"); break;
                case CodeBlock c: html.Append($"<pre><code>{Encode(c.Text.TrimEnd())}</code></pre>\n"); break;
                case ImageBlock i:
                    html.Append($"<p><img alt=\"{Encode(i.Alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(i.AbsolutePath))}\"></p>\n");
                    break;
                case TableBlock t:
                    html.Append("<table>\n<tr>").Append(string.Concat(t.Header.Select(c => $"<th>{Inline(c)}</th>"))).Append("</tr>\n");
                    foreach (var row in t.Rows) html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{Inline(c)}</td>"))).Append("</tr>\n");
                    html.Append("</table>\n");
                    break;
            }
        }
        return html.Append("</body>\n</html>\n").ToString();

        // Markdown's few inline marks the report uses: `code`, **bold**, and line breaks.
        static string Inline(string text)
        {
            string encoded = WebUtility.HtmlEncode(text).Replace("\n", "<br>");
            encoded = System.Text.RegularExpressions.Regex.Replace(encoded, "`([^`]+)`", "<code>$1</code>");
            encoded = System.Text.RegularExpressions.Regex.Replace(encoded, @"\*\*([^*]+)\*\*", "<strong>$1</strong>");
            return encoded.Replace("✔", "<span class=\"pass\">✔</span>").Replace("✘", "<span class=\"fail\">✘</span>");
        }
    }
}
