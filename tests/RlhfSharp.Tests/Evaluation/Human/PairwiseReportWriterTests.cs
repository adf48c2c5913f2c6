using System.Text.Json;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Evaluation.Human;

public class PairwiseReportWriterTests
{
    static PairwiseReport Reference(string modelA = "sft", string modelB = "rlhf") =>
        PairwiseStatistics.Compute(Judgments.ReferenceExperiment(), modelA, modelB);

    [Fact]
    public void Markdown_has_the_seed_style_table_and_the_statistics()
    {
        string md = PairwiseReportWriter.ToMarkdown(Reference());

        Assert.Contains("|  | sft preferred | tie | rlhf preferred | rlhf at least as good |\n|---|---:|---:|---:|---:|\n", md);
        Assert.Contains("| items (100) | 16 (16.0%) | 54 (54.0%) | 30 (30.0%) | 84 (84.0%) |", md);
        Assert.Contains("30/46 = 65.2%, Wilson 95% interval 50.8% to 77.3%", md);
        Assert.Contains("p = 0.0541", md);
        Assert.Contains("| ann | ", md);
        Assert.Contains("Agreement: no item has two or more judgments.", md);
    }

    [Fact]
    public void Html_and_markdown_escape_model_names()
    {
        var report = Reference(modelB: "<script>alert(1)</script>");

        string html = PairwiseReportWriter.ToHtml(report);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<style>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; preferred", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains(@"\<script>alert(1)\</script> preferred", PairwiseReportWriter.ToMarkdown(report));
    }

    [Fact]
    public void Json_uses_snake_case_names()
    {
        using var json = JsonDocument.Parse(PairwiseReportWriter.ToJson(Reference()));
        var root = json.RootElement;

        Assert.Equal("rlhf", root.GetProperty("model_b").GetString());
        Assert.Equal(0.84, root.GetProperty("b_at_least_as_good").GetDouble(), 12);
        Assert.Equal(30, root.GetProperty("items").GetProperty("b").GetInt32());
        Assert.Equal(100, root.GetProperty("judgments").GetProperty("total").GetInt32());
        Assert.Equal(0.5077, root.GetProperty("b_win_rate_interval").GetProperty("lower").GetDouble(), 4);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("agreement").ValueKind);
    }

    [Fact]
    public void Json_names_the_agreement_method()
    {
        var report = PairwiseStatistics.Compute(Judgments.TwoRaters((2, PairwiseChoice.A, PairwiseChoice.B)), "a", "b");
        Assert.Contains("\"method\": \"cohen_kappa\"", PairwiseReportWriter.ToJson(report));
    }

    [Fact]
    public void WriteAll_writes_the_three_files()
    {
        string dir = Path.Combine(TestPaths.NewTempDirectory(), "nested");
        var report = Reference();
        PairwiseReportWriter.WriteAll(report, dir);

        Assert.Equal(PairwiseReportWriter.ToMarkdown(report), File.ReadAllText(Path.Combine(dir, "report.md")));
        Assert.Equal(PairwiseReportWriter.ToJson(report), File.ReadAllText(Path.Combine(dir, "report.json")));
        Assert.Equal(PairwiseReportWriter.ToHtml(report), File.ReadAllText(Path.Combine(dir, "report.html")));
        Assert.Equal(3, Directory.GetFiles(dir).Length);
        Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
    }
}
