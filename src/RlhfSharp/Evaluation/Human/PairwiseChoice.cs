namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// The verdict of one blind comparison, in model terms: the annotation app shows the two responses as left/right
/// in random order and maps the answer back to A or B before it is recorded.
/// </summary>
public enum PairwiseChoice
{
    /// <summary>Model A's response is preferred.</summary>
    A,
    /// <summary>Model B's response is preferred.</summary>
    B,
    /// <summary>Neither is preferred.</summary>
    Tie,
}
