using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Dpo;

/// <summary>
/// Direct preference optimisation and its variants on preference pairs (TRL's DPOConfig and CPOConfig where they apply).
/// From <see cref="SupervisedTrainingOptions"/>: batch_size is preference pairs per micro-batch, max_length the tokens of
/// prompt + response for each response of a pair, learning_rate TRL's DPO default of 1e-6.
/// </summary>
public sealed class DpoOptions : SupervisedTrainingOptions
{
    /// <summary>The loss names <see cref="Loss"/> accepts.</summary>
    public static readonly IReadOnlyList<string> Losses = [Sigmoid, Ipo, Hinge, Simpo];

    public const string Sigmoid = "sigmoid", Ipo = "ipo", Hinge = "hinge", Simpo = "simpo";

    public DpoOptions() => LearningRate = 1e-6;

    /// <summary>
    /// "sigmoid" (DPO, Rafailov et al. 2023), "ipo" (Azar et al. 2023, on log ratios averaged per response token),
    /// "hinge" (SLiC's hinge on the DPO margin, Zhao et al. 2023) or "simpo" (Meng et al. 2024: reference-free, average
    /// log-probabilities with a target margin <see cref="Gamma"/>). Default "sigmoid".
    /// </summary>
    [AlsoKnownAs("loss_type")]
    public string Loss { get; init; } = Sigmoid;
    /// <summary>
    /// The inverse temperature: how strongly the implicit reward beta x log(policy / reference) is scaled (sigmoid, hinge:
    /// 1/beta is the hinge's margin; ipo: 1/(2 beta) is the target gap; simpo: the scale of the average log-probability). Default 0.1.
    /// </summary>
    public double Beta { get; init; } = 0.1;
    /// <summary>
    /// Conservative DPO (sigmoid and simpo only): the share of preference labels taken to be flipped, in [0, 0.5); the
    /// loss becomes (1 - e) x the loss of the pair + e x the loss of the flipped pair. Default 0.
    /// </summary>
    public double LabelSmoothing { get; init; }
    /// <summary>SimPO's target reward margin: the loss is -log sigmoid(beta (avg logp_chosen - avg logp_rejected) - gamma) (simpo only). Default 0.5.</summary>
    [AlsoKnownAs("simpo_gamma")]
    public double Gamma { get; init; } = 0.5;

    /// <summary>Whether the loss compares the policy with a reference model (all but simpo), whose log-probabilities a run computes once.</summary>
    public bool UsesReference() => Loss != Simpo;

    /// <summary>Whether the loss works on log-probabilities averaged per response token (ipo, simpo) rather than summed (sigmoid, hinge).</summary>
    public bool AveragesPerToken() => Loss is Ipo or Simpo;

    public override void Validate()
    {
        base.Validate();
        Require(Losses.Contains(Loss), nameof(Loss), $"must be {string.Join(", ", Losses.SkipLast(1))} or {Losses[^1]}, not '{Loss}'");
        Require(Positive(Beta), nameof(Beta), Beta, "must be a positive number");
        Require(LabelSmoothing is >= 0 and < 0.5, nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 0.5)");
        Require(LabelSmoothing == 0 || Loss is Sigmoid or Simpo, nameof(LabelSmoothing), LabelSmoothing,
            $"applies to the sigmoid and simpo losses only, not to {Loss}: leave it at 0");
        Require(NotNegative(Gamma), nameof(Gamma), Gamma, "must be 0 or more");
    }
}
