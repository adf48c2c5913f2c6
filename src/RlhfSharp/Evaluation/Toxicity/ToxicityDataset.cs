namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>A named set of labelled texts (the name is usually the file stem).</summary>
public sealed record ToxicityDataset(string Name, IReadOnlyList<LabelledText> Rows)
{
    /// <summary>A seeded stratified sample of at most <paramref name="maxRows"/> rows.</summary>
    public ToxicityDataset Sample(int maxRows, int seed)
    {
        if (maxRows >= Rows.Count) return this;
        var (_, taken) = StratifiedSplit.Split(Rows.Select(r => r.Toxic).ToList(), (double)maxRows / Rows.Count, seed);
        return this with { Rows = taken.Select(i => Rows[i]).ToList() };
    }
}
