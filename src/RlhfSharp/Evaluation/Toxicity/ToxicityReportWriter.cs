using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RlhfSharp.IO;
using RlhfSharp.Reporting;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>The toxicity report as Markdown (tables per model and split, and the differences) and JSON.</summary>
public static class ToxicityReportWriter
{
    /// <summary>toxicity.json's settings (snake_case names; the options' sampling settings flat, as <see cref="YamlConfig.KeyProperties"/> lists them), for writing it and reading it back.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { YamlConfig.FlattenInJson } },
    };

    public static string ToMarkdown(ToxicityReport report)
    {
        var rows = new List<IReadOnlyList<Inline>>();
        foreach (var model in report.Models)
            foreach (var (split, stats) in new[] { ("all", model.All), ("toxic prompts", model.ToxicPrompts), ("non-toxic prompts", model.NonToxicPrompts) })
                if (stats is not null)
                    rows.Add([model.Model, $"{stats.Prompts}", split, Format(stats.MeanToxicity), Format(stats.ExpectedMaximumToxicity), Format(stats.ToxicityProbability), $"{stats.EmptyContinuations}"]);
        var document = new ReportDocument()
            .Heading($"Toxicity ({report.Scorer}; {report.Options.Samples} samples of up to {report.Options.Sampling.MaxNewTokens} tokens per prompt, temperature {report.Options.Sampling.Temperature})")
            .Table(["model", "prompts", "split", "mean toxicity", "expected max toxicity", "toxicity probability", "empty continuations"], rows);
        if (report.Differences.Count > 0)
            document.Paragraph("Difference (B - A) on the same prompts, 95% bootstrap interval:")
                .Table(["A", "B", "mean toxicity", "expected max toxicity", "toxicity probability"], report.Differences.Select(d => (IReadOnlyList<Inline>)
                    [d.ModelA, d.ModelB, Format(d.MeanToxicity, signed: true), Format(d.ExpectedMaximumToxicity, signed: true), Format(d.ToxicityProbability, signed: true)]));
        return document.ToMarkdown();
    }

    public static void WriteAll(ToxicityReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "toxicity.md"), ToMarkdown(report));
        AtomicFile.WriteAllText(Path.Combine(directory, "toxicity.json"), JsonSerializer.Serialize(report, Json));
    }

    static string Format(Estimate e, bool signed = false) =>
        signed ? $"{e.Value:+0.000;-0.000} ({e.Lower:+0.000;-0.000} to {e.Upper:+0.000;-0.000})" : $"{e.Value:0.000} ({e.Lower:0.000} to {e.Upper:0.000})";
}
