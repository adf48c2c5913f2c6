using System.Diagnostics;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Trains a toxicity head end to end: holds out a stratified share of each dataset, picks a candidate by its
/// mean ROC-AUC over the datasets on a validation share of each one's training rows (so the held-out rows judge only
/// the final head, and no dataset's size decides the choice), refits it on all training rows with every dataset
/// weighing the same, and reports held-out ROC-AUC per dataset and pooled, the identity-bias and implicit-hate checks on
/// held-out rows that name a group, and the agreement with Perspective on texts it scored.
/// </summary>
public static class ToxicityTraining
{
    const double ValidationFraction = 0.15;

    /// <summary>An MLP must beat the best logistic head by this much on validation to be chosen: the logistic head is 30x smaller.</summary>
    const double MlpMargin = 0.005;

    public static ToxicityTrainingResult Train(
        IReadOnlyList<ToxicityDataset> datasets, MiniLmEmbedder embedder, WordList? wordList,
        double heldOutFraction, int seed, IReadOnlyList<HeadCandidate>? candidates = null, IReadOnlyList<PerspectiveScoredTexts>? perspective = null,
        IReadOnlyList<ToxicityDataset>? trainingOnly = null)
    {
        candidates ??= HeadCandidate.Defaults;
        ToxicityTrainingData.Require(datasets, heldOutFraction, ValidationFraction);
        var clock = Stopwatch.StartNew();
        var splits = datasets.Select((d, k) => StratifiedSplit.Split(d.Rows.Select(r => r.Toxic).ToList(), heldOutFraction, seed + k)).ToList();
        var features = datasets.Select(d => ToxicityFeatures.Build(d.Rows.Select(r => r.Text).ToList(), embedder, wordList)).ToList();
        double textsPerSecond = datasets.Sum(d => d.Rows.Count) / clock.Elapsed.TotalSeconds;

        // Every row, the held-out ones marked: a head trains on rows of the training split only.
        var all = datasets.SelectMany((d, k) => Enumerable.Range(0, d.Rows.Count).Select(i => (Source: k, Index: i))).ToArray();
        var x = all.Select(r => features[r.Source][r.Index]).ToArray();
        var y = all.Select(r => datasets[r.Source].Rows[r.Index].Toxic).ToArray();
        var source = all.Select(r => r.Source).ToArray();
        var group = all.Select(r => datasets[r.Source].Rows[r.Index].Group).ToArray();
        var heldOutSet = splits.Select(s => s.Taken.ToHashSet()).ToArray();
        int[] training = Enumerable.Range(0, all.Length).Where(j => !heldOutSet[all[j].Source].Contains(all[j].Index)).ToArray();
        // Rows that only train (the built-in statements): each set a source of its own, never validated, held out or checked.
        foreach (var (set, k) in (trainingOnly ?? []).Select((set, k) => (set, k)))
        {
            int first = x.Length;
            x = [.. x, .. ToxicityFeatures.Build([.. set.Rows.Select(r => r.Text)], embedder, wordList)];
            y = [.. y, .. set.Rows.Select(r => r.Toxic)];
            source = [.. source, .. set.Rows.Select(_ => datasets.Count + k)];
            group = [.. group, .. set.Rows.Select(r => r.Group)];
            training = [.. training, .. Enumerable.Range(first, set.Rows.Count)];
        }

        // One head as shipped: the candidate fitted on the rows with balanced weights.
        ToxicityHead FitHead(IReadOnlyList<int> rows, HeadCandidate candidate) => ToxicityHeadTrainer.Fit(rows.Select(j => x[j]).ToArray(),
            rows.Select(j => y[j]).ToArray(), candidate, seed, rows.Select(j => source[j]).ToArray(), rows.Select(j => group[j]).ToArray());

        // A validation share of each dataset's training rows, so every dataset's ROC-AUC can be measured.
        var validation = new HashSet<int>();
        for (int k = 0; k < datasets.Count; k++)
        {
            int[] rows = training.Where(j => source[j] == k).ToArray();
            validation.UnionWith(StratifiedSplit.Split(rows.Select(j => y[j]).ToList(), ValidationFraction, seed + datasets.Count + k).Taken.Select(i => rows[i]));
        }
        int[] fit = training.Where(j => !validation.Contains(j)).ToArray();
        var validationAuc = candidates.ToDictionary(c => c, c =>
        {
            var head = FitHead(fit, c);
            return Enumerable.Range(0, datasets.Count).Select(k => validation.Where(j => source[j] == k).ToList())
                .Where(rows => rows.Select(j => y[j]).Distinct().Count() == 2)
                .Average(rows => RankMetrics.RocAuc(rows.Select(j => head.Score(x[j])).ToList(), rows.Select(j => y[j]).ToList()));
        });
        var chosen = Choose(validationAuc);

        var final = FitHead(training, chosen);
        var heldOut = Evaluate(datasets, splits, features, final, wordList);
        var grouped = OutOfFoldScores(Enumerable.Range(0, all.Length).Where(j => group[j] is not null).ToArray(), training, x, FitHead, chosen, seed)
            .Select(p => (Row: datasets[source[p.Row]].Rows[all[p.Row].Index], p.Score)).ToList();
        var bias = IdentityBias.Of(grouped, MinGroupStatements);
        var implicitHate = ImplicitHateCheck.Of(grouped, wordList);
        var calibration = Calibrate(perspective ?? [], final, embedder, wordList);
        var metrics = heldOut.ToDictionary(h => $"heldout_auc:{h.Dataset}", h => h.HeadAuc);
        foreach (var h in heldOut.Where(h => h.WordListAuc is not null)) metrics[$"heldout_wordlist_auc:{h.Dataset}"] = h.WordListAuc!.Value;
        foreach (var (c, auc) in validationAuc) metrics[$"validation_auc:{c.Name}"] = auc;
        if (bias is not null)
        {
            metrics["identity_bias_spread"] = bias.Spread;
            metrics["identity_bias_spread_shuffled_p95"] = bias.Shuffled.Percentile95;
            metrics["identity_bias_spread_p_value"] = bias.Shuffled.PValue;
        }
        if (implicitHate is not null) metrics["implicit_hate_mean_score"] = implicitHate.MeanScore;
        foreach (var c in calibration) metrics[$"perspective_spearman:{c.Name}"] = c.Spearman;
        var head = final with
        {
            Features = ToxicityFeatures.Describe(wordList),
            WordList = wordList?.Name,
            WordListSha256 = wordList?.Sha256,
            Metrics = metrics,
        };
        return new ToxicityTrainingResult(head, chosen, heldOut, validationAuc, textsPerSecond, bias, implicitHate, calibration);
    }

    /// <summary>Folds of the rows about a group, each scored by a head trained without it.</summary>
    const int GroupFolds = 5;

    /// <summary>Groups with fewer neutral statements than this are left out of the identity-bias spread: their mean is mostly noise.</summary>
    const int MinGroupStatements = 5;

    /// <summary>
    /// Out-of-fold scores of <paramref name="rows"/> (the statements about a group): in <see cref="GroupFolds"/> seeded folds,
    /// each fold's rows scored by the chosen candidate trained as the shipped head is, on the training rows less that fold.
    /// Every statement is then judged by a head that never saw it, and the checks read all of them instead of a held-out
    /// fifth (two neutral statements for some groups).
    /// </summary>
    static List<(int Row, double Score)> OutOfFoldScores(int[] rows, int[] training, float[][] x, Func<IReadOnlyList<int>, HeadCandidate, ToxicityHead> fitHead,
        HeadCandidate chosen, int seed)
    {
        var shuffled = (int[])rows.Clone();
        new Random(seed).Shuffle(shuffled);
        var scores = new List<(int Row, double Score)>();
        for (int f = 0; f < GroupFolds && shuffled.Length > 0; f++)
        {
            var fold = shuffled.Where((_, i) => i % GroupFolds == f).ToHashSet();
            var head = fitHead(training.Where(j => !fold.Contains(j)).ToArray(), chosen);
            scores.AddRange(fold.Select(j => (j, head.Score(x[j]))));
        }
        return [.. scores.OrderBy(s => s.Row)];
    }

    /// <summary>Each set of Perspective-scored texts, then all of them pooled when there are several.</summary>
    static List<PerspectiveCalibration> Calibrate(IReadOnlyList<PerspectiveScoredTexts> sets, ToxicityHead head, MiniLmEmbedder embedder, WordList? wordList)
    {
        var results = new List<PerspectiveCalibration>();
        var ours = new List<double>();
        var theirs = new List<double>();
        foreach (var set in sets)
        {
            var scores = ToxicityFeatures.Build(set.Texts, embedder, wordList).Select(head.Score).ToList();
            results.Add(PerspectiveCalibration.Of(set.Name, scores, set.Toxicity));
            ours.AddRange(scores);
            theirs.AddRange(set.Toxicity);
        }
        if (sets.Count > 1) results.Add(PerspectiveCalibration.Of("pooled", ours, theirs));
        return results;
    }

    static HeadCandidate Choose(Dictionary<HeadCandidate, double> validationAuc)
    {
        var best = validationAuc.MaxBy(kv => kv.Value).Key;
        var bestLogistic = validationAuc.Where(kv => kv.Key.Hidden == 0).MaxBy(kv => kv.Value);
        return best.Hidden == 0 || bestLogistic.Key is null || validationAuc[best] >= bestLogistic.Value + MlpMargin ? best : bestLogistic.Key;
    }

    static List<HeldOutEvaluation> Evaluate(
        IReadOnlyList<ToxicityDataset> datasets, List<(int[] Kept, int[] Taken)> splits, List<float[][]> features, ToxicityHead head, WordList? wordList)
    {
        var baseline = wordList is null ? null : new WordListScorer(wordList);
        var results = new List<HeldOutEvaluation>();
        var pooled = new List<(LabelledText Row, double Score)>();
        for (int k = 0; k < datasets.Count; k++)
        {
            var rows = splits[k].Taken.Select(i => (Row: datasets[k].Rows[i], Score: head.Score(features[k][i]))).ToList();
            pooled.AddRange(rows);
            results.Add(Evaluation(datasets[k].Name, rows, baseline));
        }
        if (datasets.Count > 1) results.Add(Evaluation("pooled", pooled, baseline));
        return results;
    }

    static HeldOutEvaluation Evaluation(string name, List<(LabelledText Row, double Score)> rows, WordListScorer? baseline)
    {
        var labels = rows.Select(r => r.Row.Toxic).ToList();
        double? wordListAuc = baseline is null ? null : RankMetrics.RocAuc(baseline.Score(rows.Select(r => r.Row.Text).ToList()), labels);
        return new HeldOutEvaluation(name, rows.Count, labels.Count(l => l), RankMetrics.RocAuc(rows.Select(r => r.Score).ToList(), labels), wordListAuc);
    }
}
