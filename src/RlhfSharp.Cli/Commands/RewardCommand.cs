using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Training.Reward;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf reward`: a reward model trained on preference pairs, from an SFT or any base checkpoint.</summary>
internal static class RewardCommand
{
    public static Command Build()
    {
        var command = new Command("reward", "Train a reward model (decoder + scalar head) on preference pairs with the pairwise loss -log sigmoid(r_chosen - r_rejected).");
        var cli = new TrainingCommandOptions<RewardOptions>(help: new Dictionary<string, string>
        {
            [nameof(RewardOptions.BatchSize)] = "preference pairs per micro-batch (one forward/backward)",
            [nameof(RewardOptions.MaxLength)] = "tokens per prompt + response, for each response of a pair: a longer prompt is cut from the left",
            [nameof(RewardOptions.Margin)] = "required reward gap: the loss is -log sigmoid(r_chosen - r_rejected - margin)",
            [nameof(RewardOptions.CenterRewardsCoefficient)] = "weight of mean((r_chosen + r_rejected)^2), keeping rewards near 0 (TRL uses 0.01)",
        });
        cli.AddTo(command);
        command.SetAction(parsed => TrainingCommand.Run(parsed, cli,
            DatasetReader.ReadPreferences,
            (encoder, pair, maxLength) => encoder.EncodePreference(pair, maxLength),
            (origin, options) => new RewardObjective(SequenceRewardModel.InitializeFrom(origin.Directory), options, origin)));
        return command;
    }
}
