using System.Net;
using System.Text.RegularExpressions;
using Markdig;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.Reporting;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Tests.Reporting;

/// <summary>
/// Every report shows names and texts holding Markdown and HTML markup as text: its Markdown rendered by a CommonMark
/// renderer with GitHub's extensions (tables, strikethrough, math, autolinks) and its HTML page hold exactly the text,
/// no script, and tables keep their columns.
/// </summary>
public class ReportEscapingTests
{
    // Each starts with a mark that would open a block (list, ordered list, quote, heading) and holds inline markup.
    const string ModelA = "1. a|b *em* _u_ `tick` &amp; [link](x)";
    const string ModelB = "- b **strong** <script>alert(1)</script>\nsecond line ~~del~~";
    const string Other = "> q $m$ \\* # h <b>bold</b> a|b";
    const string Code = "echo `x`\n```\n<script>alert(2)</script> | *em*";

    static readonly MarkdownPipeline CommonMarkWithGitHubExtensions = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    [Fact]
    public void Pairwise_markdown_and_html_show_names_as_text()
    {
        List<PairwiseJudgment> judgments =
        [
            new("item1", Other, PairwiseChoice.A, ModelB), new("item2", Other, PairwiseChoice.B, ModelB), new("item3", "ann", PairwiseChoice.Tie, ModelB),
        ];
        var report = PairwiseStatistics.Compute(judgments, ModelA, ModelB);

        AssertMarkdownShowsText(PairwiseReportWriter.ToMarkdown(report), tables: 3, ModelA, ModelB, Other);
        AssertHtmlShowsText(PairwiseReportWriter.ToHtml(report), ModelA, ModelB, Other);
    }

    [Fact]
    public void Report_document_shows_text_as_text()
    {
        var document = new ReportDocument(ModelA).Heading(ModelB).Paragraph(Other).Paragraph(ModelB)
            .Table([ModelA, "n"], [[ModelB, "1"], [Other, "2"]]).Code(Code);

        AssertMarkdownShowsText(document.ToMarkdown(), tables: 1, ModelA, ModelB, Other, Code);
        AssertHtmlShowsText(document.ToHtml(), ModelA, ModelB, Other, Code);
    }

    [Fact]
    public void Toxicity_report_shows_model_and_scorer_names_as_text()
    {
        var estimate = new Estimate(0.25, 0.125, 0.5);
        var statistics = new ToxicityStatistics(4, estimate, estimate, estimate);
        var report = new ToxicityReport(Other, new ToxicityEvaluationOptions(),
            [new ModelToxicity(ModelA, statistics, statistics, null), new ModelToxicity(ModelB, statistics, null, statistics)],
            [new ToxicityDifference(ModelA, ModelB, estimate, estimate, estimate)]);

        AssertMarkdownShowsText(ToxicityReportWriter.ToMarkdown(report), tables: 2, ModelA, ModelB, Other);
    }

    [Fact]
    public void Toxicity_training_report_shows_names_and_the_command_as_text()
    {
        var candidate = new HeadCandidate(0, 1e-3);
        var head = new ToxicityHead
        {
            Kind = "logistic", Features = [ModelA, "embedding"], Layers = [new DenseLayer([[0f, 0f]], [0f])],
            Provenance = new() { ["command"] = Code, ["data"] = ModelB, ["chosen"] = Other },
        };
        var result = new ToxicityTrainingResult(head, candidate, [new HeldOutEvaluation(Other, 10, 3, 0.875, null)],
            new Dictionary<HeadCandidate, double> { [candidate] = 0.75 }, 100);

        AssertMarkdownShowsText(ToxicityTrainingReport.Markdown(result, head), tables: 2, ModelA, ModelB, Other, Code);
    }

    [Fact]
    public void Ppo_samples_show_prompts_and_responses_as_text()
    {
        string markdown = PpoSamples.Markdown([ModelA, Other], [ModelB, Code], [0.5, -0.25], iteration: 3, width: int.MaxValue);
        AssertMarkdownShowsText(markdown, tables: 1, ModelA, ModelB, Other, Code);
    }

    /// <summary>Renders <paramref name="markdown"/> and checks that it holds <paramref name="tables"/> tables whose rows
    /// all have the header's number of cells, no script, and every one of <paramref name="texts"/> as visible text.</summary>
    static void AssertMarkdownShowsText(string markdown, int tables, params string[] texts)
    {
        string html = Markdown.ToHtml(markdown, CommonMarkWithGitHubExtensions);
        var found = Regex.Matches(html, "<table>(.*?)</table>", RegexOptions.Singleline);
        Assert.True(found.Count == tables, $"{found.Count} tables instead of {tables} in:\n{markdown}");
        foreach (Match table in found)
        {
            var cells = Regex.Matches(table.Value, "<tr>(.*?)</tr>", RegexOptions.Singleline)
                .Select(row => Regex.Matches(row.Value, "<t[hd][ >]").Count).ToList();
            Assert.True(cells.All(c => c == cells[0]), $"rows with {string.Join(", ", cells)} cells in:\n{markdown}");
        }
        AssertHtmlShowsText(html, texts);
    }

    static void AssertHtmlShowsText(string html, params string[] texts)
    {
        Assert.DoesNotContain("<script", html);
        string visible = WebUtility.HtmlDecode(Regex.Replace(Regex.Replace(html, "<br */?>", "\n"), "<[^>]*>", ""));
        foreach (string text in texts) Assert.True(visible.Contains(text), $"'{text}' not shown as text in:\n{html}");
    }
}
