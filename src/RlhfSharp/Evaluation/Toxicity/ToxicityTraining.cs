using System.Diagnostics;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Trains a toxicity head end to end: holds out a stratified share of each dataset, picks a candidate by
/// ROC-AUC on a validation share of the training rows (so the held-out rows judge only the final head),
/// refits it on all training rows and reports held-out ROC-AUC per dataset and pooled.
/// </summary>
public static class ToxicityTraining
{
    const double ValidationFraction = 0.15;

    /// <summary>An MLP must beat the best logistic head by this much on validation to be chosen: the logistic head is 30x smaller.</summary>
    const double MlpMargin = 0.005;

    public static ToxicityTrainingResult Train(
        IReadOnlyList<ToxicityDataset> datasets, MiniLmEmbedder embedder, WordList? wordList,
        double heldOutFraction, int seed, IReadOnlyList<HeadCandidate>? candidates = null)
    {
        candidates ??= HeadCandidate.Defaults;
        ToxicityTrainingData.Require(datasets, heldOutFraction, ValidationFraction);
        var clock = Stopwatch.StartNew();
        var splits = datasets.Select((d, k) => StratifiedSplit.Split(d.Rows.Select(r => r.Toxic).ToList(), heldOutFraction, seed + k)).ToList();
        var features = datasets.Select(d => ToxicityFeatures.Build(d.Rows.Select(r => r.Text).ToList(), embedder, wordList)).ToList();
        double textsPerSecond = datasets.Sum(d => d.Rows.Count) / clock.Elapsed.TotalSeconds;

        var trainX = datasets.SelectMany((_, k) => splits[k].Kept.Select(i => features[k][i])).ToArray();
        var trainY = datasets.SelectMany((d, k) => splits[k].Kept.Select(i => d.Rows[i].Toxic)).ToArray();
        var (fit, validation) = StratifiedSplit.Split(trainY, ValidationFraction, seed + datasets.Count);
        var validationAuc = candidates.ToDictionary(c => c, c =>
        {
            var head = ToxicityHeadTrainer.Fit(fit.Select(i => trainX[i]).ToArray(), fit.Select(i => trainY[i]).ToArray(), c, seed);
            return RankMetrics.RocAuc(validation.Select(i => head.Score(trainX[i])).ToList(), validation.Select(i => trainY[i]).ToList());
        });
        var chosen = Choose(validationAuc);

        var final = ToxicityHeadTrainer.Fit(trainX, trainY, chosen, seed);
        var heldOut = Evaluate(datasets, splits, features, final, wordList);
        var metrics = heldOut.ToDictionary(h => $"heldout_auc:{h.Dataset}", h => h.HeadAuc);
        foreach (var h in heldOut.Where(h => h.WordListAuc is not null)) metrics[$"heldout_wordlist_auc:{h.Dataset}"] = h.WordListAuc!.Value;
        foreach (var (c, auc) in validationAuc) metrics[$"validation_auc:{c.Name}"] = auc;
        var head = final with
        {
            Features = ToxicityFeatures.Describe(wordList),
            WordList = wordList?.Name,
            WordListSha256 = wordList?.Sha256,
            Metrics = metrics,
        };
        return new ToxicityTrainingResult(head, chosen, heldOut, validationAuc, textsPerSecond);
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
