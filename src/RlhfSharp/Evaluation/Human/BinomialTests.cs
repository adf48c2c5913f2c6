namespace RlhfSharp.Evaluation.Human;

/// <summary>The small binomial statistics of a pairwise study, written out here rather than taken from a package.</summary>
internal static class BinomialTests
{
    /// <summary>The normal quantile of a two-sided 95% interval.</summary>
    public const double Z95 = 1.959964;

    /// <summary>
    /// Wilson's score interval for <paramref name="successes"/> of <paramref name="n"/> (Wilson 1927), which stays
    /// inside [0, 1] and keeps its coverage for small n and proportions near 0 or 1, unlike p ± z·sqrt(p(1-p)/n).
    /// With p = successes/n:
    /// center = (p + z²/2n) / (1 + z²/n),  half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n);
    /// null when n = 0.
    /// </summary>
    public static ConfidenceInterval? Wilson(int successes, int n, double z = Z95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(successes, n);
        if (n == 0) return null;
        double p = (double)successes / n, z2 = z * z, denominator = 1 + z2 / n;
        double center = (p + z2 / (2.0 * n)) / denominator;
        double half = z * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denominator;
        return new ConfidenceInterval(Math.Max(0, center - half), Math.Min(1, center + half));
    }

    /// <summary>
    /// The two-sided exact sign test of "A and B are equally likely to win" from a wins for A and b for B (ties
    /// already left out): p = min(1, 2·P(X ≤ min(a, b))) with X ~ Binomial(a + b, 1/2), where
    /// P(X = k) = C(n, k) / 2ⁿ. The terms are summed in log space, log C(n, k+1) = log C(n, k) + log(n-k) - log(k+1),
    /// so n in the thousands neither overflows nor underflows. 1 when a = b = 0.
    /// </summary>
    public static double SignTest(int a, int b)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(a);
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        int n = a + b, low = Math.Min(a, b);
        var logTerms = new double[low + 1]; // log C(n, k) - n·log 2, increasing in k because k ≤ n/2
        double logChoose = 0;
        for (int k = 0; k <= low; k++)
        {
            logTerms[k] = logChoose - n * Math.Log(2);
            logChoose += Math.Log(n - k) - Math.Log(k + 1);
        }
        double max = logTerms[low], sum = 0;
        foreach (double term in logTerms) sum += Math.Exp(term - max);
        return Math.Min(1, 2 * Math.Exp(max + Math.Log(sum)));
    }
}
