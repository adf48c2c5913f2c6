namespace RlhfSharp.Evaluation.Human;

/// <summary>How often A was preferred, B was preferred, or neither, with the shares derived from them.</summary>
public sealed record ChoiceCounts(int A, int B, int Tie)
{
    public int Total => A + B + Tie;

    /// <summary>(B + Tie) / Total: the share where B is at least as good as A; null when nothing was counted.</summary>
    public double? BAtLeastAsGood => Total == 0 ? null : (double)(B + Tie) / Total;

    /// <summary>B / (A + B): B's win rate among decisive verdicts (ties left out); null when there are none.</summary>
    public double? BWinRate => A + B == 0 ? null : (double)B / (A + B);

    internal static ChoiceCounts Of(IEnumerable<PairwiseChoice> choices)
    {
        int a = 0, b = 0, tie = 0;
        foreach (var choice in choices)
        {
            if (choice == PairwiseChoice.A) a++;
            else if (choice == PairwiseChoice.B) b++;
            else tie++;
        }
        return new ChoiceCounts(a, b, tie);
    }
}
