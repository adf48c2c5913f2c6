using System.Globalization;
using RlhfSharp.Reporting;

namespace RlhfSharp.Evaluation.Human;

/// <summary>What a pairwise report says, in reading order, as one document for both the Markdown and the HTML file.</summary>
internal static class PairwiseReportDocument
{
    /// <summary>The page's style sheet: numbers right-aligned, as in the Markdown tables.</summary>
    const string Style = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        + "table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .7rem;text-align:right}"
        + "th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}";

    static readonly ColumnAlignment[] NumbersRight = [ColumnAlignment.Default, .. Enumerable.Repeat(ColumnAlignment.Right, 4)];

    /// <summary>The seed-style table (A preferred, tie, B preferred and B at least as good, over items and judgments),
    /// the win rate, sign test and agreement, then per annotator and per criterion when there are criteria.</summary>
    public static ReportDocument Build(PairwiseReport r)
    {
        var document = new ReportDocument($"{r.ModelB} vs {r.ModelA}: blind pairwise comparison") { HtmlStyle = Style }
            .Table(Header("", r), [Row($"items ({r.Items.Total})", r.Items), Row($"judgments ({r.Judgments.Total})", r.Judgments)], NumbersRight)
            .Paragraph(r.BWinRateInterval is { } interval
                ? $"{r.ModelB} win rate among decisive items: {r.Items.B}/{r.Items.A + r.Items.B} = {Percent(r.BWinRate)}, "
                  + $"Wilson 95% interval {Percent(interval.Lower)} to {Percent(interval.Upper)}."
                : $"No decisive item: no win rate for {r.ModelB}.")
            .Paragraph($"Two-sided exact sign test, ties excluded: p = {PValue(r.SignTestP)}.")
            .Paragraph(Agreement(r.Agreement))
            .Heading("Annotators")
            .Table(Header("annotator", r), r.Annotators.Select(a => Row(a.Annotator, a.Counts)), NumbersRight);
        if (r.Criteria.Count > 0)
            document.Heading("Criteria (majority per item)")
                .Table(Header("criterion", r), r.Criteria.Select(c => Row($"{c.Criterion ?? "(none)"} ({c.Items.Total})", c.Items)), NumbersRight);
        return document;
    }

    static Inline[] Header(string first, PairwiseReport r) =>
        [first, $"{r.ModelA} preferred", "tie", $"{r.ModelB} preferred", $"{r.ModelB} at least as good"];

    static string Agreement(AnnotatorAgreement? a)
    {
        if (a == null) return "Agreement: no item has two or more judgments.";
        string name = a.Method == AgreementMethod.CohenKappa ? "Cohen's kappa" : "Fleiss' kappa";
        string kappa = a.Kappa is { } k ? $"{name} = {Fixed(k, 3)}" : $"{name} undefined (every judgment has the same label)";
        string excluded = a.ExcludedItems == 0 ? "" : $"; {a.ExcludedItems} items with another number of judgments left out";
        return $"Agreement: {kappa} over {a.Items} items with {a.JudgmentsPerItem} judgments each "
            + $"(observed {Fixed(a.ObservedAgreement, 3)}, chance {Fixed(a.ExpectedAgreement, 3)}{excluded}).";
    }

    static Inline[] Row(string label, ChoiceCounts c) =>
        [label, Share(c.A, c.Total), Share(c.Tie, c.Total), Share(c.B, c.Total), Share(c.B + c.Tie, c.Total)];

    static string Share(int count, int total) => total == 0 ? "0" : $"{count} ({Percent((double)count / total)})";

    static string Percent(double? p) => p is { } v ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "n/a";

    static string Fixed(double x, int decimals) => x.ToString("F" + decimals, CultureInfo.InvariantCulture);

    static string PValue(double p) => p.ToString(p >= 1e-4 ? "0.0000" : "0.00e+00", CultureInfo.InvariantCulture);
}
