namespace RlhfSharp.Evaluation.Human;

/// <summary>Turns the judgments of a blind A-versus-B study into a <see cref="PairwiseReport"/>.</summary>
public static class PairwiseStatistics
{
    /// <exception cref="RlhfException">A judgment without an item id or annotator, with an undefined choice, or
    /// the same annotator judging the same item and criterion twice (which would double their vote).</exception>
    public static PairwiseReport Compute(IReadOnlyList<PairwiseJudgment> judgments, string modelA, string modelB)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelA);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelB);
        Validate(judgments);
        // An item is an item whatever criteria its judges named: one vote per annotator per item (the majority of their
        // judgments on it, which is their only one unless they judged it on several criteria), one verdict per item.
        var itemVotes = judgments.GroupBy(j => j.ItemId)
            .Select(item => (IReadOnlyList<PairwiseJudgment>)item.GroupBy(j => j.Annotator)
                .Select(votes => new PairwiseJudgment(item.Key, votes.Key, Majority(votes.ToList()))).ToList()).ToList();
        var items = ChoiceCounts.Of(itemVotes.Select(Majority));
        var questions = judgments.GroupBy(j => (j.ItemId, j.Criterion))
            .Select(g => (Criterion: g.Key.Criterion, Judgments: (IReadOnlyList<PairwiseJudgment>)g.ToList())).ToList();

        var annotators = judgments.GroupBy(j => j.Annotator).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new AnnotatorCounts(g.Key, ChoiceCounts.Of(g.Select(j => j.Choice)))).ToList();
        var criteria = judgments.All(j => j.Criterion == null) ? [] : questions
            .GroupBy(q => q.Criterion).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CriterionCounts(g.Key,
                ChoiceCounts.Of(g.SelectMany(q => q.Judgments).Select(j => j.Choice)),
                ChoiceCounts.Of(g.Select(q => Majority(q.Judgments))))).ToList();

        return new PairwiseReport(modelA, modelB, ChoiceCounts.Of(judgments.Select(j => j.Choice)), items,
            BinomialTests.Wilson(items.B, items.A + items.B), BinomialTests.SignTest(items.A, items.B),
            annotators, criteria, InterAnnotatorAgreement.Compute(itemVotes));
    }

    /// <summary>The choice with strictly the most votes; Tie when the most votes are shared (A and B, or either
    /// with Tie), since then no model is preferred by a plurality.</summary>
    static PairwiseChoice Majority(IReadOnlyList<PairwiseJudgment> votes)
    {
        var counts = ChoiceCounts.Of(votes.Select(v => v.Choice));
        if (counts.A > counts.B && counts.A > counts.Tie) return PairwiseChoice.A;
        if (counts.B > counts.A && counts.B > counts.Tie) return PairwiseChoice.B;
        return PairwiseChoice.Tie;
    }

    static void Validate(IReadOnlyList<PairwiseJudgment> judgments)
    {
        var seen = new HashSet<(string, string?, string)>();
        for (int i = 0; i < judgments.Count; i++)
        {
            var j = judgments[i];
            if (string.IsNullOrWhiteSpace(j.ItemId) || string.IsNullOrWhiteSpace(j.Annotator))
                throw new RlhfException($"judgment {i}: the item id and the annotator must not be empty");
            if (!Enum.IsDefined(j.Choice))
                throw new RlhfException($"judgment {i} (item '{j.ItemId}'): choice {(int)j.Choice} is not A, B or Tie");
            if (!seen.Add((j.ItemId, j.Criterion, j.Annotator)))
                throw new RlhfException($"judgment {i}: annotator '{j.Annotator}' judged item '{j.ItemId}'"
                    + (j.Criterion == null ? "" : $" on '{j.Criterion}'") + " more than once");
        }
    }
}
