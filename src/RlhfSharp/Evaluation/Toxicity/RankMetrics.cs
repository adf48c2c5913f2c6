namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>Rank statistics for judging scorers: ROC-AUC against binary labels, Spearman's rho against reference scores.</summary>
internal static class RankMetrics
{
    /// <summary>
    /// Ranks 1..n with tied values given the mean of the ranks they span, so ties count as half-wins in
    /// the AUC and do not bias rho.
    /// </summary>
    public static double[] AverageRanks(IReadOnlyList<double> values)
    {
        int[] order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>
    /// Area under the ROC curve by the Mann-Whitney statistic: the chance that a random positive scores
    /// above a random negative, ties counting one half.
    /// </summary>
    public static double RocAuc(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        if (scores.Count != labels.Count) throw new ArgumentException("scores and labels differ in length");
        long positives = labels.Count(l => l), negatives = labels.Count - positives;
        if (positives == 0 || negatives == 0) throw new ArgumentException("ROC-AUC needs both positive and negative labels");
        double[] ranks = AverageRanks(scores);
        double positiveRankSum = Enumerable.Range(0, ranks.Length).Where(i => labels[i]).Sum(i => ranks[i]);
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Spearman's rho: Pearson correlation of the average ranks.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException("x and y differ in length");
        return Pearson(AverageRanks(x), AverageRanks(y));
    }

    static double Pearson(double[] x, double[] y)
    {
        double meanX = x.Average(), meanY = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - meanX) * (y[i] - meanY);
            sxx += (x[i] - meanX) * (x[i] - meanX);
            syy += (y[i] - meanY) * (y[i] - meanY);
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }
}
