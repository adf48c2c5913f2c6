namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>One group's neutral statements: how toxic the head finds plain mentions of the group.</summary>
public sealed record GroupBias(string Group, int Statements, double MeanScore);

/// <summary>
/// The identity-term bias check: the mean score of held-out neutral statements about each group, and the spread between
/// the highest and the lowest group with at least <see cref="MinStatements"/> of them. A head that learned "mentions of
/// group X are toxic" shows a wide spread. With a handful of statements per group the spread is mostly sampling noise, so
/// <see cref="Shuffled"/> says what spread the same scores give when the statements are dealt to the groups at random.
/// </summary>
public sealed record IdentityBias(IReadOnlyList<GroupBias> Groups, double Spread, int MinStatements, ShuffledSpread Shuffled)
{
    public static IdentityBias? Of(IEnumerable<(LabelledText Row, double Score)> heldOut, int minStatements = 1)
    {
        var neutral = heldOut.Where(r => !r.Row.Toxic && !string.IsNullOrEmpty(r.Row.Group)).ToList();
        var groups = neutral.GroupBy(r => r.Row.Group!, StringComparer.Ordinal)
            .Select(g => new GroupBias(g.Key, g.Count(), g.Average(r => r.Score)))
            .OrderBy(g => g.Group, StringComparer.Ordinal).ToList();
        var counted = groups.Where(g => g.Statements >= minStatements).ToList();
        if (counted.Count < 2) return null;
        double spread = counted.Max(g => g.MeanScore) - counted.Min(g => g.MeanScore);
        var countedNames = counted.Select(g => g.Group).ToHashSet(StringComparer.Ordinal);
        double[] scores = [.. neutral.Where(r => countedNames.Contains(r.Row.Group!)).Select(r => r.Score)];
        return new IdentityBias(groups, spread, minStatements, ShuffledSpread.Of(scores, [.. counted.Select(g => g.Statements)], spread));
    }
}

/// <summary>
/// The spread of group means when the same scores are dealt at random into groups of the same sizes (seeded shuffles):
/// its median and 95th percentile, and the share of shuffles whose spread reaches the observed one (a permutation
/// p-value). An observed spread inside the shuffled range is no evidence that the head treats the groups differently.
/// </summary>
public sealed record ShuffledSpread(double Median, double Percentile95, double PValue, int Shuffles)
{
    public const int DefaultShuffles = 2000;

    public static ShuffledSpread Of(double[] scores, int[] groupSizes, double observed, int shuffles = DefaultShuffles, int seed = 0)
    {
        var random = new Random(seed);
        var dealt = (double[])scores.Clone();
        var spreads = new double[shuffles];
        for (int s = 0; s < shuffles; s++)
        {
            random.Shuffle(dealt);
            double high = double.NegativeInfinity, low = double.PositiveInfinity;
            int start = 0;
            foreach (int size in groupSizes)
            {
                double sum = 0;
                foreach (double score in dealt.AsSpan(start, size)) sum += score;
                (high, low, start) = (Math.Max(high, sum / size), Math.Min(low, sum / size), start + size);
            }
            spreads[s] = high - low;
        }
        Array.Sort(spreads);
        // A shuffle "reaches" the observed spread up to rounding, so identical scores give p = 1, not a coin toss.
        int reached = spreads.Count(x => x >= observed - 1e-12);
        return new ShuffledSpread(spreads[shuffles / 2], spreads[(int)(0.95 * (shuffles - 1))], reached / (double)shuffles, shuffles);
    }
}

/// <summary>
/// Hate without swear words: held-out hateful statements about a group that contain no word-list term (threats,
/// dehumanisation, stereotypes), their mean score, the share the head puts above 0.5, and the ROC-AUC against the same
/// groups' neutral statements.
/// </summary>
public sealed record ImplicitHateCheck(int Statements, double MeanScore, double ShareAboveHalf, double RocAucAgainstNeutral)
{
    public static ImplicitHateCheck? Of(IReadOnlyList<(LabelledText Row, double Score)> heldOut, WordList? wordList)
    {
        var grouped = heldOut.Where(r => !string.IsNullOrEmpty(r.Row.Group)).ToList();
        var hate = grouped.Where(r => r.Row.Toxic && (wordList is null || !wordList.Match(r.Row.Text).Any)).ToList();
        var neutral = grouped.Where(r => !r.Row.Toxic).ToList();
        if (hate.Count == 0 || neutral.Count == 0) return null;
        var both = hate.Concat(neutral).ToList();
        return new ImplicitHateCheck(hate.Count, hate.Average(r => r.Score), hate.Count(r => r.Score > 0.5) / (double)hate.Count,
            RankMetrics.RocAuc(both.Select(r => r.Score).ToList(), both.Select(r => r.Row.Toxic).ToList()));
    }
}

/// <summary>
/// The head against Perspective on one set of texts Perspective scored (RealToxicityPrompts): rank agreement, and how
/// often each puts a text above 0.5 (the threshold "toxicity probability" counts).
/// </summary>
public sealed record PerspectiveCalibration(string Name, int Texts, double Spearman, double OursAboveHalf, double PerspectiveAboveHalf)
{
    public static PerspectiveCalibration Of(string name, IReadOnlyList<double> ours, IReadOnlyList<double> perspective) =>
        new(name, ours.Count, RankMetrics.Spearman(ours, perspective), ours.Count(s => s > 0.5) / (double)ours.Count,
            perspective.Count(s => s > 0.5) / (double)perspective.Count);
}
