namespace RlhfSharp.Evaluation.Human;

/// <summary>Cohen's and Fleiss' kappa on count tables, for any number of categories.</summary>
internal static class Kappa
{
    /// <summary>
    /// Cohen's kappa from a k×k table, table[i, j] = items rater 1 labelled i and rater 2 labelled j, n items:
    /// po = Σ_i table[i, i] / n,  pe = Σ_i (row_i / n)·(column_i / n),  kappa = (po - pe) / (1 - pe).
    /// </summary>
    public static (double Observed, double Expected) Cohen(int[,] table)
    {
        int k = table.GetLength(0);
        double n = 0, diagonal = 0;
        var rows = new double[k];
        var columns = new double[k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                n += table[i, j];
                rows[i] += table[i, j];
                columns[j] += table[i, j];
                if (i == j) diagonal += table[i, j];
            }
        double expected = 0;
        for (int i = 0; i < k; i++) expected += rows[i] / n * (columns[i] / n);
        return (diagonal / n, expected);
    }

    /// <summary>
    /// Fleiss' kappa from an N×k table, counts[i, j] = raters who put subject i in category j, m raters per subject:
    /// P_i = (Σ_j n_ij² - m) / (m(m-1)),  P̄ = mean P_i,  p_j = Σ_i n_ij / (N·m),  P̄e = Σ_j p_j²,
    /// kappa = (P̄ - P̄e) / (1 - P̄e).
    /// </summary>
    public static (double Observed, double Expected) Fleiss(int[,] counts)
    {
        int subjects = counts.GetLength(0), k = counts.GetLength(1);
        int m = 0;
        for (int j = 0; j < k; j++) m += counts[0, j];
        double observed = 0;
        var categories = new double[k];
        for (int i = 0; i < subjects; i++)
        {
            double squares = 0;
            for (int j = 0; j < k; j++)
            {
                squares += (double)counts[i, j] * counts[i, j];
                categories[j] += counts[i, j];
            }
            observed += (squares - m) / (m * (m - 1.0));
        }
        double expected = 0;
        foreach (double total in categories) expected += Math.Pow(total / ((double)subjects * m), 2);
        return (observed / subjects, expected);
    }

    /// <summary>(observed - expected) / (1 - expected); null when expected is 1 and kappa is 0/0.</summary>
    public static double? FromAgreement(double observed, double expected) =>
        expected >= 1 - 1e-12 ? null : (observed - expected) / (1 - expected);
}
