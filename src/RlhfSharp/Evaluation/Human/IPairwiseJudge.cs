namespace RlhfSharp.Evaluation.Human;

/// <summary>An automated judge of a comparison (a reward model, the demo's oracle), in model terms.</summary>
public interface IPairwiseJudge
{
    /// <summary>The annotator name its judgments carry.</summary>
    string Name { get; }

    IReadOnlyList<PairwiseChoice> Judge(IReadOnlyList<Comparison> comparisons);
}

public static class PairwiseJudges
{
    /// <summary>Judges every comparison, as one annotator, into judgments the statistics read.</summary>
    public static IReadOnlyList<PairwiseJudgment> Apply(IPairwiseJudge judge, IReadOnlyList<Comparison> comparisons) =>
        judge.Judge(comparisons).Select((choice, i) => new PairwiseJudgment(comparisons[i].Id, judge.Name, choice)).ToList();
}
