namespace RlhfSharp.Evaluation.Human;

/// <summary>Chooses and computes the agreement statistic for a study's questions (one list of judgments each).</summary>
internal static class InterAnnotatorAgreement
{
    /// <summary>
    /// Kappa over the questions judged m times, m being the most common count among questions with two or more
    /// judgments (the larger on a tie); the rest are reported as excluded. m = 2: Cohen's kappa, the judgment of the
    /// annotator whose name sorts first (ordinal) being rater 1. When different pairs of annotators share the
    /// questions, rater 1 and 2 are positions rather than people, as in any such use of Cohen's kappa.
    /// m ≥ 3: Fleiss' kappa. Null when no question has two judgments.
    /// </summary>
    public static AnnotatorAgreement? Compute(IEnumerable<IReadOnlyList<PairwiseJudgment>> questions)
    {
        var multiple = questions.Where(q => q.Count >= 2).ToList();
        if (multiple.Count == 0) return null;
        int m = multiple.GroupBy(q => q.Count).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;
        var used = multiple.Where(q => q.Count == m).ToList();
        var method = m == 2 ? AgreementMethod.CohenKappa : AgreementMethod.FleissKappa;
        var (observed, expected) = m == 2 ? Kappa.Cohen(CohenTable(used)) : Kappa.Fleiss(FleissTable(used));
        return new AnnotatorAgreement(method, used.Count, m, multiple.Count - used.Count,
            observed, expected, Kappa.FromAgreement(observed, expected));
    }

    const int Labels = 3; // A, B, Tie as 0, 1, 2

    static int[,] CohenTable(List<IReadOnlyList<PairwiseJudgment>> questions)
    {
        var table = new int[Labels, Labels];
        foreach (var question in questions)
        {
            var raters = question.OrderBy(j => j.Annotator, StringComparer.Ordinal).ToArray();
            table[(int)raters[0].Choice, (int)raters[1].Choice]++;
        }
        return table;
    }

    static int[,] FleissTable(List<IReadOnlyList<PairwiseJudgment>> questions)
    {
        var counts = new int[questions.Count, Labels];
        for (int i = 0; i < questions.Count; i++)
            foreach (var judgment in questions[i]) counts[i, (int)judgment.Choice]++;
        return counts;
    }
}
