namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Whether datasets hold enough rows of each label for training's splits: every dataset's held-out share needs toxic
/// and non-toxic rows (ROC-AUC ranks one against the other) and leaves some of each to train on, and the pooled
/// training rows need both labels in the validation share that picks the head and in the rest that fits it.
/// </summary>
public static class ToxicityTrainingData
{
    /// <exception cref="RlhfException">A split would lack a label: one line naming the dataset and its counts.</exception>
    public static void Require(IReadOnlyList<ToxicityDataset> datasets, double heldOutFraction, double validationFraction)
    {
        if (datasets.Count == 0) throw new RlhfException("no training data");
        var (trainToxic, trainClean) = (0, 0);
        foreach (var dataset in datasets)
        {
            int toxic = dataset.Rows.Count(r => r.Toxic), clean = dataset.Rows.Count - toxic;
            foreach (int rows in new[] { toxic, clean })
            {
                int taken = StratifiedSplit.Taken(rows, heldOutFraction);
                if (taken == 0 || taken == rows)
                    throw new RlhfException($"{dataset.Name}: too few rows to hold out {heldOutFraction:0.###} of each label and train on the rest "
                        + $"({toxic} toxic, {clean} non-toxic); give more rows of each label");
            }
            trainToxic += toxic - StratifiedSplit.Taken(toxic, heldOutFraction);
            trainClean += clean - StratifiedSplit.Taken(clean, heldOutFraction);
        }
        foreach (int rows in new[] { trainToxic, trainClean })
        {
            int taken = StratifiedSplit.Taken(rows, validationFraction);
            if (taken == 0 || taken == rows)
                throw new RlhfException($"too few training rows to choose a head on a validation share of {validationFraction:0.###} of each label "
                    + $"({trainToxic} toxic, {trainClean} non-toxic after holding out); give more rows of each label");
        }
    }
}
