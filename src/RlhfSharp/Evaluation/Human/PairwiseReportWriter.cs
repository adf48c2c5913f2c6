using System.Text.Json;
using System.Text.Json.Serialization;
using RlhfSharp.IO;

namespace RlhfSharp.Evaluation.Human;

/// <summary>Writes a <see cref="PairwiseReport"/> as Markdown, JSON (snake_case names) and a self-contained HTML page.</summary>
public static class PairwiseReportWriter
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string ToMarkdown(PairwiseReport report) => PairwiseReportDocument.Build(report).ToMarkdown();

    public static string ToJson(PairwiseReport report) => JsonSerializer.Serialize(report, Json) + "\n";

    public static string ToHtml(PairwiseReport report) => PairwiseReportDocument.Build(report).ToHtml();

    /// <summary>Writes report.md, report.json and report.html into <paramref name="outDir"/> (created if missing),
    /// each file atomically.</summary>
    public static void WriteAll(PairwiseReport report, string outDir)
    {
        var document = PairwiseReportDocument.Build(report);
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.md"), document.ToMarkdown());
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.json"), ToJson(report));
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.html"), document.ToHtml());
    }
}
