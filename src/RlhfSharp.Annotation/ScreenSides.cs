using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Annotation;

/// <summary>Maps what a judge saw back to the models behind it; each item records whether A was shown on the left.</summary>
public static class ScreenSides
{
    public static PairwiseChoice ToModel(ScreenChoice choice, bool aOnLeft) => choice switch
    {
        ScreenChoice.Tie => PairwiseChoice.Tie,
        ScreenChoice.Left => aOnLeft ? PairwiseChoice.A : PairwiseChoice.B,
        _ => aOnLeft ? PairwiseChoice.B : PairwiseChoice.A,
    };
}
