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
        double heldOutFraction, int seed, IReadOnlyList<HeadCandidate>? candidates = null, IReadOnlyList<PerspectiveScoredTexts>? perspective = null)
    {
        candidates ??= HeadCandidate.Defaults;
        ToxicityTrainingData.Require(datasets, heldOutFraction, ValidationFraction);
        var clock = Stopwatch.StartNew();
        var splits = datasets.Select((d, k) => StratifiedSplit.Split(d.Rows.Select(r => r.Toxic).ToList(), heldOutFraction, seed + k)).ToList();
        var features = datasets.Select(d => ToxicityFeatures.Build(d.Rows.Select(r => r.Text).ToList(), embedder, wordList)).ToList();
        double textsPerSecond = datasets.Sum(d => d.Rows.Count) / clock.Elapsed.TotalSeconds;

        var trainX = datasets.SelectMany((_, k) => splits[k].Kept.Select(i => features[k][i])).ToArray();
        var trainY = datasets.SelectMany((d, k) => splits[k].Kept.Select(i => d.Rows[i].Toxic)).ToArray();
        var trainSource = datasets.SelectMany((_, k) => splits[k].Kept.Select(_ => k)).ToArray();
        var trainGroup = datasets.SelectMany((d, k) => splits[k].Kept.Select(i => d.Rows[i].Group)).ToArray();
        // Learnt from the training rows only; the held-out rows are scored by the folded head like any text.
        var identity = IdentityDirections.Fit(trainX, trainGroup.Select((g, i) => trainY[i] ? null : g).ToArray(), MiniLmEmbedder.Dimensions);
        if (identity is not null) trainX = [.. trainX.Select(identity.Project)];
        // A validation share of each dataset's training rows, so every dataset's ROC-AUC can be measured.
        var validation = new HashSet<int>();
        for (int k = 0, offset = 0; k < datasets.Count; offset += splits[k].Kept.Length, k++)
        {
            int start = offset;
            var labels = splits[k].Kept.Select(i => datasets[k].Rows[i].Toxic).ToList();
            validation.UnionWith(StratifiedSplit.Split(labels, ValidationFraction, seed + datasets.Count + k).Taken.Select(i => start + i));
        }
        int[] fit = Enumerable.Range(0, trainX.Length).Where(i => !validation.Contains(i)).ToArray();
        var validationAuc = candidates.ToDictionary(c => c, c =>
        {
            var head = ToxicityHeadTrainer.Fit(fit.Select(i => trainX[i]).ToArray(), fit.Select(i => trainY[i]).ToArray(), c, seed,
                fit.Select(i => trainSource[i]).ToArray(), fit.Select(i => trainGroup[i]).ToArray());
            return Enumerable.Range(0, datasets.Count).Select(k => validation.Where(i => trainSource[i] == k).ToList())
                .Where(rows => rows.Select(i => trainY[i]).Distinct().Count() == 2)
                .Average(rows => RankMetrics.RocAuc(rows.Select(i => head.Score(trainX[i])).ToList(), rows.Select(i => trainY[i]).ToList()));
        });
        var chosen = Choose(validationAuc);

        var final = ToxicityHeadTrainer.Fit(trainX, trainY, chosen, seed, trainSource, trainGroup);
        if (identity is not null) final = final with { Layers = [identity.Fold(final.Layers[0]), .. final.Layers[1..]] };
        var heldOut = Evaluate(datasets, splits, features, final, wordList);
        var heldOutRows = datasets.SelectMany((d, k) => splits[k].Taken.Select(i => (Row: d.Rows[i], Score: final.Score(features[k][i])))).ToList();
        var bias = IdentityBias.Of(heldOutRows);
        var implicitHate = ImplicitHateCheck.Of(heldOutRows, wordList);
        var calibration = Calibrate(perspective ?? [], final, embedder, wordList);
        var metrics = heldOut.ToDictionary(h => $"heldout_auc:{h.Dataset}", h => h.HeadAuc);
        foreach (var h in heldOut.Where(h => h.WordListAuc is not null)) metrics[$"heldout_wordlist_auc:{h.Dataset}"] = h.WordListAuc!.Value;
        foreach (var (c, auc) in validationAuc) metrics[$"validation_auc:{c.Name}"] = auc;
        if (bias is not null) metrics["identity_bias_spread"] = bias.Spread;
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
