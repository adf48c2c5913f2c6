namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// The statistics of a blind pairwise comparison of <see cref="ModelA"/> and <see cref="ModelB"/>. An item is an item
/// id, whatever criteria its judges named. The headline figures use <see cref="Items"/>, one majority verdict per item
/// over one vote per annotator, so an item judged five times weighs as much as one judged once; <see cref="Criteria"/>
/// breaks the judgments down by the criterion named.
/// </summary>
/// <param name="Judgments">Every judgment counted once.</param>
/// <param name="Items">One verdict per item: the choice with the most votes, Tie when the most votes are shared.</param>
/// <param name="BWinRateInterval">Wilson 95% interval of <see cref="BWinRate"/>; null with no decisive item.</param>
/// <param name="SignTestP">Two-sided exact sign test p-value of A and B winning equally often, ties left out.</param>
/// <param name="Annotators">Per annotator, ordered by name (ordinal).</param>
/// <param name="Criteria">Per criterion, ordered by name; empty when no judgment names a criterion.</param>
/// <param name="Agreement">Inter-annotator agreement over items (one vote per annotator); null when no item has two or more annotators.</param>
public sealed record PairwiseReport(
    string ModelA, string ModelB, ChoiceCounts Judgments, ChoiceCounts Items,
    ConfidenceInterval? BWinRateInterval, double SignTestP,
    IReadOnlyList<AnnotatorCounts> Annotators, IReadOnlyList<CriterionCounts> Criteria, AnnotatorAgreement? Agreement)
{
    /// <summary>(B + Tie) / items: the share of items where B is at least as good as A.</summary>
    public double? BAtLeastAsGood => Items.BAtLeastAsGood;

    /// <summary>B / (A + B) over items: B's win rate among decisive items.</summary>
    public double? BWinRate => Items.BWinRate;
}
