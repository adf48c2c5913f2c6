using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Training.Reward;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf reward`: a reward model trained on preference pairs, from an SFT or any base checkpoint.</summary>
public static class RewardCommand
{
    public static Command Build()
    {
        var command = new Command("reward", "Train a reward model (decoder + scalar head) on preference pairs with the pairwise loss -log sigmoid(r_chosen - r_rejected).");
        var cli = new TrainingCommandOptions<RewardOptions>();
        var defaults = new RewardOptions();
        cli.Bind("--margin", "required reward gap in the pairwise loss", nameof(RewardOptions.Margin), defaults.Margin);
        cli.Bind("--center-rewards-coefficient", "weight of mean((r_chosen + r_rejected)^2) (TRL uses 0.01)", nameof(RewardOptions.CenterRewardsCoefficient), defaults.CenterRewardsCoefficient);
        cli.AddTo(command);
        command.SetAction(parsed => TrainingCommand.Run(parsed, cli,
            DatasetReader.ReadPreferences,
            (encoder, pair, maxLength) => encoder.EncodePreference(pair, maxLength),
            (modelDir, options) => new RewardObjective(SequenceRewardModel.InitializeFrom(modelDir), options, modelDir)));
        return command;
    }
}
