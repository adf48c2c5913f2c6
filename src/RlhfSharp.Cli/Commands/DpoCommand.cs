using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Training.Dpo;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf dpo`: direct preference optimisation of a causal LM on preference pairs, without a reward model.</summary>
internal static class DpoCommand
{
    public static Command Build()
    {
        var command = new Command("dpo", "Train a causal LM directly on preference pairs (DPO and its ipo, hinge and simpo variants) against the starting model as reference, without a reward model.");
        var cli = new TrainingCommandOptions<DpoOptions>(help: new Dictionary<string, string>
        {
            [nameof(DpoOptions.BatchSize)] = "preference pairs per micro-batch (one forward/backward over both responses)",
            [nameof(DpoOptions.MaxLength)] = "tokens per prompt + response, for each response of a pair: a longer prompt is cut from the left",
            [nameof(DpoOptions.Loss)] = $"{string.Join(", ", DpoOptions.Losses)}: DPO's -log sigmoid(beta h), IPO's (h - 1/(2 beta))^2 on per-token averages, " +
                "the hinge max(0, 1 - beta h), or reference-free SimPO (h: how much more than the reference the policy prefers the chosen response)",
            [nameof(DpoOptions.Beta)] = "scale of the implicit reward beta log(policy/reference): larger keeps the policy closer to the reference",
            [nameof(DpoOptions.LabelSmoothing)] = "conservative DPO (sigmoid, simpo): the share of preference labels assumed flipped, in [0, 0.5)",
            [nameof(DpoOptions.Gamma)] = "SimPO's target reward margin (simpo only)",
            [nameof(DpoOptions.LoraDropout)] = "dropout on the LoRA adapters' input while training; an adapter continued with --adapter does not bring its own (DPO trains without dropout, so its policy starts as its reference)",
        })
        { CarriesAdapterDropout = false };
        cli.AddTo(command);
        command.SetAction(parsed => TrainingCommand.Run(parsed, cli,
            DatasetReader.ReadPreferences,
            (encoder, pair, maxLength) => new DpoPair(encoder.EncodePreference(pair, maxLength)),
            DpoObjective.Load));
        return command;
    }
}
