using System.Text;

namespace RlhfSharp.Reporting;

/// <summary>
/// A report as a list of blocks rendered twice, to Markdown and to one self-contained HTML page (inline CSS,
/// images embedded), so both always say the same thing. Text is escaped by one rule per format
/// (<see cref="MarkdownText"/>, <see cref="HtmlText"/>): only the marks of an <see cref="Inline"/> become markup.
/// </summary>
/// <param name="title">The page's title and first heading; null for a section without one (Markdown only).</param>
public sealed class ReportDocument(string? title = null)
{
    abstract record Block;
    sealed record HeadingBlock(Inline Text) : Block;
    sealed record ParagraphBlock(Inline Text) : Block;
    sealed record ListBlock(IReadOnlyList<Inline> Items) : Block;
    sealed record TableBlock(IReadOnlyList<Inline> Header, IReadOnlyList<IReadOnlyList<Inline>> Rows, IReadOnlyList<ColumnAlignment> Alignment) : Block;
    sealed record ImageBlock(string RelativePath, string AbsolutePath, string Alt) : Block;
    sealed record CodeBlock(string Text, string? Language) : Block;

    /// <summary>The HTML page's style sheet; the default colours <see cref="Inline.Verdict"/> marks.</summary>
    public string HtmlStyle { get; init; } = DefaultStyle;

    public const string DefaultStyle =
        "body{font-family:'DejaVu Sans',system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1.2rem;color:#1d1d1f;line-height:1.45}"
        + "h1{font-size:1.7rem;margin-bottom:.3rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}"
        + "table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}th,td{border:1px solid #d0d0d0;padding:.35rem .7rem;vertical-align:top;text-align:left}"
        + "th{background:#f2f4f7}tr:nth-child(even) td{background:#fafbfc}img{max-width:100%;border:1px solid #e2e2e2}"
        + "pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;font-size:.85rem}code{font-family:'DejaVu Sans Mono',monospace}"
        + ".pass{color:#137333;font-weight:bold}.fail{color:#b3261e;font-weight:bold}";

    readonly List<Block> _blocks = [];

    public ReportDocument Heading(Inline text) => Add(new HeadingBlock(text));
    public ReportDocument Paragraph(Inline text) => Add(new ParagraphBlock(text));
    public ReportDocument List(IEnumerable<Inline> items) => Add(new ListBlock(items.ToList()));
    public ReportDocument Code(string text, string? language = null) => Add(new CodeBlock(text, language));

    /// <summary>A table; <paramref name="alignment"/> per column, Default for columns it leaves out.</summary>
    public ReportDocument Table(IReadOnlyList<Inline> header, IEnumerable<IReadOnlyList<Inline>> rows, IReadOnlyList<ColumnAlignment>? alignment = null) =>
        Add(new TableBlock(header, rows.ToList(), alignment ?? []));

    /// <summary>An image: linked by <paramref name="relativePath"/> (the report's own, without spaces or brackets) in Markdown,
    /// embedded in HTML; left out when the file is missing.</summary>
    public ReportDocument Image(string relativePath, string absolutePath, string alt) =>
        File.Exists(absolutePath) ? Add(new ImageBlock(relativePath, absolutePath, alt)) : this;

    ReportDocument Add(Block block)
    {
        _blocks.Add(block);
        return this;
    }

    /// <summary>The blocks separated by blank lines, after the title as a level-1 heading when there is one.</summary>
    public string ToMarkdown()
    {
        var blocks = _blocks.Select(MarkdownBlock);
        if (title != null) blocks = blocks.Prepend($"# {MarkdownText.Escape(title)}\n");
        return string.Join("\n", blocks);
    }

    static string MarkdownBlock(Block block) => block switch
    {
        HeadingBlock h => $"## {Markdown(h.Text)}\n",
        ParagraphBlock p => Markdown(p.Text, atLineStart: true) + "\n",
        ListBlock l => string.Concat(l.Items.Select(item => $"- {Markdown(item, atLineStart: true)}\n")),
        ImageBlock i => $"![{MarkdownText.Escape(i.Alt)}]({i.RelativePath})\n",
        CodeBlock c => MarkdownText.CodeBlock(c.Text.TrimEnd(), c.Language),
        TableBlock t => MarkdownRow(t.Header)
            + "|" + string.Concat(t.Header.Select((_, i) => i < t.Alignment.Count && t.Alignment[i] == ColumnAlignment.Right ? "---:|" : "---|")) + "\n"
            + string.Concat(t.Rows.Select(MarkdownRow)),
        _ => throw new InvalidOperationException(block.GetType().Name),
    };

    static string MarkdownRow(IReadOnlyList<Inline> cells) => "|" + string.Concat(cells.Select(c => $" {Markdown(c, inTableCell: true)} |")) + "\n";

    static string Markdown(Inline text, bool atLineStart = false, bool inTableCell = false) => string.Concat(text.Spans.Select((span, i) => span.Kind switch
    {
        Inline.SpanKind.Text => MarkdownText.Escape(span.Value, atLineStart && i == 0),
        Inline.SpanKind.Code => MarkdownText.CodeSpan(span.Value, inTableCell),
        _ => span.Value,
    }));

    public string ToHtml()
    {
        var html = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append($"<title>{HtmlText.Encode(title ?? "")}</title>\n<style>{HtmlStyle}</style>\n</head>\n<body>\n");
        if (title != null) html.Append($"<h1>{HtmlText.EncodeLines(title)}</h1>\n");
        foreach (var block in _blocks) html.Append(HtmlBlock(block));
        return html.Append("</body>\n</html>\n").ToString();
    }

    static string HtmlBlock(Block block) => block switch
    {
        HeadingBlock h => $"<h2>{Html(h.Text)}</h2>\n",
        ParagraphBlock p => $"<p>{Html(p.Text)}</p>\n",
        ListBlock l => "<ul>\n" + string.Concat(l.Items.Select(item => $"<li>{Html(item)}</li>\n")) + "</ul>\n",
        CodeBlock c => $"<pre><code>{HtmlText.Encode(c.Text.TrimEnd())}</code></pre>\n",
        ImageBlock i => $"<p><img alt=\"{HtmlText.Encode(i.Alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(i.AbsolutePath))}\"></p>\n",
        TableBlock t => "<table>\n" + HtmlRow("th", t.Header) + string.Concat(t.Rows.Select(row => HtmlRow("td", row))) + "</table>\n",
        _ => throw new InvalidOperationException(block.GetType().Name),
    };

    static string HtmlRow(string tag, IReadOnlyList<Inline> cells) => "<tr>" + string.Concat(cells.Select(c => $"<{tag}>{Html(c)}</{tag}>")) + "</tr>\n";

    static string Html(Inline text) => string.Concat(text.Spans.Select(span => span.Kind switch
    {
        Inline.SpanKind.Text => HtmlText.EncodeLines(span.Value),
        Inline.SpanKind.Code => $"<code>{HtmlText.Encode(span.Value)}</code>",
        _ => $"<span class=\"{span.Kind.ToString().ToLowerInvariant()}\">{span.Value}</span>",
    }));
}
