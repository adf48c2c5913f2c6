using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Annotation;

/// <summary>The judgments stored by the annotation app, with the names of the two models compared.</summary>
public static class AnnotationJudgments
{
    public static (IReadOnlyList<PairwiseJudgment> Judgments, string ModelA, string ModelB) Read(string dbPath)
    {
        using var store = new AnnotationStore(dbPath, create: false);
        var comparisons = store.ReadComparisons();
        if (comparisons.Count == 0) throw new RlhfException($"{dbPath}: no comparisons imported");
        var pairs = comparisons.Select(c => (c.ModelA, c.ModelB)).Distinct().ToList();
        if (pairs.Count > 1) throw new RlhfException($"{dbPath}: holds comparisons of {pairs.Count} model pairs; the report covers one pair");
        return (store.ReadJudgments(), pairs[0].ModelA, pairs[0].ModelB);
    }
}
