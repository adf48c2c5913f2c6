using System.Globalization;

namespace RlhfSharp.Evaluation.Human;

/// <summary>What a pairwise report says, as plain text in reading order; the writers only render and escape it.</summary>
static class ReportContent
{
    public static string Title(PairwiseReport r) => $"{r.ModelB} vs {r.ModelA}: blind pairwise comparison";

    /// <summary>The seed-style table: A preferred, tie, B preferred and B at least as good, over items and judgments.</summary>
    public static ReportTable Headline(PairwiseReport r) => new(null,
        ["", $"{r.ModelA} preferred", "tie", $"{r.ModelB} preferred", $"{r.ModelB} at least as good"],
        [Row($"items ({r.Items.Total})", r.Items), Row($"judgments ({r.Judgments.Total})", r.Judgments)]);

    public static IEnumerable<string> Findings(PairwiseReport r)
    {
        yield return r.BWinRateInterval is { } interval
            ? $"{r.ModelB} win rate among decisive items: {r.Items.B}/{r.Items.A + r.Items.B} = {Percent(r.BWinRate)}, "
              + $"Wilson 95% interval {Percent(interval.Lower)} to {Percent(interval.Upper)}."
            : $"No decisive item: no win rate for {r.ModelB}.";
        yield return $"Two-sided exact sign test, ties excluded: p = {PValue(r.SignTestP)}.";
        yield return Agreement(r.Agreement);
    }

    /// <summary>Per annotator, then per criterion when there are criteria.</summary>
    public static IEnumerable<ReportTable> Breakdowns(PairwiseReport r)
    {
        yield return new ReportTable("Annotators",
            ["annotator", $"{r.ModelA} preferred", "tie", $"{r.ModelB} preferred", $"{r.ModelB} at least as good"],
            [.. r.Annotators.Select(a => Row(a.Annotator, a.Counts))]);
        if (r.Criteria.Count > 0)
            yield return new ReportTable("Criteria (majority per item)",
                ["criterion", $"{r.ModelA} preferred", "tie", $"{r.ModelB} preferred", $"{r.ModelB} at least as good"],
                [.. r.Criteria.Select(c => Row($"{c.Criterion ?? "(none)"} ({c.Items.Total})", c.Items))]);
    }

    static string Agreement(AnnotatorAgreement? a)
    {
        if (a == null) return "Agreement: no item has two or more judgments.";
        string name = a.Method == AgreementMethod.CohenKappa ? "Cohen's kappa" : "Fleiss' kappa";
        string kappa = a.Kappa is { } k ? $"{name} = {Fixed(k, 3)}" : $"{name} undefined (every judgment has the same label)";
        string excluded = a.ExcludedItems == 0 ? "" : $"; {a.ExcludedItems} items with another number of judgments left out";
        return $"Agreement: {kappa} over {a.Items} items with {a.JudgmentsPerItem} judgments each "
            + $"(observed {Fixed(a.ObservedAgreement, 3)}, chance {Fixed(a.ExpectedAgreement, 3)}{excluded}).";
    }

    static string[] Row(string label, ChoiceCounts c) =>
        [label, Share(c.A, c.Total), Share(c.Tie, c.Total), Share(c.B, c.Total), Share(c.B + c.Tie, c.Total)];

    static string Share(int count, int total) => total == 0 ? "0" : $"{count} ({Percent((double)count / total)})";

    static string Percent(double? p) => p is { } v ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "n/a";

    static string Fixed(double x, int decimals) => x.ToString("F" + decimals, CultureInfo.InvariantCulture);

    static string PValue(double p) => p.ToString(p >= 1e-4 ? "0.0000" : "0.00e+00", CultureInfo.InvariantCulture);
}
