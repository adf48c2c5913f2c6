namespace RlhfSharp.Training.Reward;

public sealed class RewardOptions : SupervisedTrainingOptions
{
    /// <summary>Required gap: the loss is -log sigmoid(r_chosen - r_rejected - margin), in reward units. Default 0.</summary>
    public double Margin { get; init; }
    /// <summary>Weight of mean((r_chosen + r_rejected)^2), keeping rewards centred (TRL uses 0.01); 0 turns it off. Default 0.</summary>
    public double CenterRewardsCoefficient { get; init; }
    /// <summary>
    /// Packs each micro-batch's chosen and rejected sequences end to end into rows as wide as the longest, attention and
    /// positions restarting at each sequence, instead of padding each to that width: the same rewards, fewer padding
    /// tokens. Default false.
    /// </summary>
    public bool PackSequences { get; init; }

    public override void Validate()
    {
        base.Validate();
        Require(double.IsFinite(Margin), nameof(Margin), Margin, "must be a number");
        Require(NotNegative(CenterRewardsCoefficient), nameof(CenterRewardsCoefficient), CenterRewardsCoefficient, "must be 0 or more");
    }
}
