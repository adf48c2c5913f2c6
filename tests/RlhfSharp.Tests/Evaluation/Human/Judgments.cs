using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Evaluation.Human;

/// <summary>Judgment lists for the tests.</summary>
internal static class Judgments
{
    /// <summary>The reference experiment (SFT = A, RLHF = B): RLHF preferred on 30 items, tie on 54, SFT preferred on 16,
    /// one judgment per item, spread over two annotators.</summary>
    public static List<PairwiseJudgment> ReferenceExperiment() =>
    [
        .. Repeat(30, PairwiseChoice.B, 0), .. Repeat(54, PairwiseChoice.Tie, 30), .. Repeat(16, PairwiseChoice.A, 84),
    ];

    static IEnumerable<PairwiseJudgment> Repeat(int count, PairwiseChoice choice, int firstItem) =>
        Enumerable.Range(firstItem, count).Select(i => new PairwiseJudgment($"item{i}", i % 2 == 0 ? "ann" : "bob", choice));

    /// <summary>One item per entry, the judgments given as (annotator, choice) pairs.</summary>
    public static List<PairwiseJudgment> Items(params (string Annotator, PairwiseChoice Choice)[][] items) =>
        [.. items.SelectMany((votes, i) => votes.Select(v => new PairwiseJudgment($"item{i}", v.Annotator, v.Choice)))];

    /// <summary>Two raters over items, one (first, second) label pair per item, repeated count times.</summary>
    public static List<PairwiseJudgment> TwoRaters(params (int Count, PairwiseChoice First, PairwiseChoice Second)[] cells)
    {
        var list = new List<PairwiseJudgment>();
        foreach (var (count, first, second) in cells)
            for (int i = 0; i < count; i++)
            {
                string item = $"item{list.Count / 2}";
                list.Add(new PairwiseJudgment(item, "zed", second)); // listed first, sorts second: rater 2
                list.Add(new PairwiseJudgment(item, "amy", first));
            }
        return list;
    }
}
