using RlhfSharp.Reporting;

namespace RlhfSharp.Tests.Reporting;

public class MarkdownTextTests
{
    [Theory]
    [InlineData("plain text, 95% (0.1 to 0.2) -> done: it's fine!", "plain text, 95% (0.1 to 0.2) -> done: it's fine!")]
    [InlineData("a|b", @"a\|b")]
    [InlineData("*em* `code` ~~del~~ [a](b) <b> &amp; $m$ # h \\", @"\*em\* \`code\` \~\~del\~\~ \[a\](b) \<b> \&amp; \$m\$ \# h \\")]
    [InlineData("snake_case and_more", "snake_case and_more")]
    [InlineData("_x_ a_ _b", @"\_x\_ a\_ \_b")]
    [InlineData("one\ntwo\r\nthree", "one<br>two<br>three")]
    [InlineData("- x", "- x")]
    public void Escape_marks_only_what_would_be_markup(string text, string expected) => Assert.Equal(expected, MarkdownText.Escape(text));

    [Theory]
    [InlineData("- x", @"\- x")]
    [InlineData("+ x", @"\+ x")]
    [InlineData("> x", @"\> x")]
    [InlineData("12. x", @"12\. x")]
    [InlineData("1) x", @"1\) x")]
    [InlineData("10.5 points", "10.5 points")]
    [InlineData("a - b > c", "a - b > c")]
    public void At_a_line_start_list_and_quote_marks_are_escaped_too(string text, string expected) =>
        Assert.Equal(expected, MarkdownText.Escape(text, atLineStart: true));

    [Theory]
    [InlineData("x", false, "`x`")]
    [InlineData("a`b", false, "``a`b``")]
    [InlineData("`x", false, "`` `x ``")]
    [InlineData("a|b\nc", false, "`a|b c`")]
    [InlineData("a|b", true, @"`a\|b`")]
    public void Code_spans_cannot_be_closed_by_their_content(string code, bool inTableCell, string expected) =>
        Assert.Equal(expected, MarkdownText.CodeSpan(code, inTableCell));

    [Fact]
    public void Code_blocks_are_fenced_longer_than_any_fence_inside()
    {
        Assert.Equal("```bash\nls\n```\n", MarkdownText.CodeBlock("ls", "bash"));
        Assert.Equal("````\na\n```\nb\n````\n", MarkdownText.CodeBlock("a\n```\nb", null));
    }
}

public class ReportDocumentTests
{
    [Fact]
    public void Renders_the_blocks_to_markdown_and_html_with_only_the_marks_as_markup()
    {
        var document = new ReportDocument("T <1>")
            .Paragraph(Inline.Verdict(false) + " see " + Inline.Code("a.md") + " *not bold*")
            .Table(["", "n"], [["x", Inline.Join(", ", [Inline.Code("a/"), Inline.Code("b/")])], ["y", Inline.Verdict(true)]], [ColumnAlignment.Default, ColumnAlignment.Right])
            .List(["- one", "two"])
            .Code("run\n", "bash");

        Assert.Equal("# T \\<1>\n\n✘ see `a.md` \\*not bold\\*\n\n|  | n |\n|---|---:|\n| x | `a/`, `b/` |\n| y | ✔ |\n\n- \\- one\n- two\n\n```bash\nrun\n```\n",
            document.ToMarkdown());
        string html = document.ToHtml();
        Assert.Contains("<title>T &lt;1&gt;</title>", html);
        Assert.Contains("<h1>T &lt;1&gt;</h1>\n<p><span class=\"fail\">✘</span> see <code>a.md</code> *not bold*</p>\n", html);
        Assert.Contains("<table>\n<tr><th></th><th>n</th></tr>\n<tr><td>x</td><td><code>a/</code>, <code>b/</code></td></tr>\n"
            + "<tr><td>y</td><td><span class=\"pass\">✔</span></td></tr>\n</table>\n<ul>\n<li>- one</li>\n<li>two</li>\n</ul>\n<pre><code>run</code></pre>\n", html);
    }

    [Fact]
    public void A_document_without_a_title_starts_with_its_first_block() =>
        Assert.Equal("## H\n\np\n", new ReportDocument().Heading("H").Paragraph("p").ToMarkdown());
}
