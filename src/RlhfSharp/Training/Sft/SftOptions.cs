namespace RlhfSharp.Training.Sft;

public sealed class SftOptions : SupervisedTrainingOptions
{
    /// <summary>
    /// Packs each micro-batch's examples end to end into rows as wide as its longest example, attention and positions
    /// restarting at each example, instead of padding every example to that width: the same loss, fewer padding tokens.
    /// Default false.
    /// </summary>
    public bool PackSequences { get; init; }
}
