using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Reward;
using Spectre.Console;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf eval ...`: evaluations of trained models.</summary>
internal static class EvalCommand
{
    static readonly Option<string> Model = new("--model")
    {
        Description = "reward model folder or hub id org/name, or a reward LoRA adapter folder (SEQ_CLS, with its score head)", Required = true,
    };
    static readonly Option<string> Data = new("--data") { Description = "preference pairs (HH-RLHF or rm-static; JSONL, .gz or Parquet)", Required = true };
    static readonly Option<int> BatchSize = new("--batch-size") { Description = "pairs per forward pass", DefaultValueFactory = _ => 8 };
    static readonly Option<int> MaxLength = new("--max-length") { Description = "tokens per sequence (prompts cut from the left; at most the model's context)", DefaultValueFactory = _ => 512 };
    static readonly Option<bool> SkipBadRows = new("--skip-bad-rows") { Description = "skip and count malformed rows" };

    public static Command Build()
    {
        var eval = new Command("eval", "Evaluate trained models.");
        var reward = new Command("reward", "Accuracy (r_chosen > r_rejected), mean margin and pair count of a reward model on preference pairs.");
        foreach (var option in new Option[] { Model, ModelSources.Adapter, InputChecks.Revision, Data, BatchSize, MaxLength, SkipBadRows }) reward.Options.Add(option);
        reward.SetAction(RunReward);
        eval.Subcommands.Add(reward);
        eval.Subcommands.Add(PairwiseCommand.Build());
        eval.Subcommands.Add(ToxicityEvalCommand.Build());
        return eval;
    }

    static int RunReward(ParseResult parsed)
    {
        var source = ModelSources.Resolve(parsed, Model, ModelSources.Adapter);
        string modelDir = source.BaseDirectory, tokenizerDir = source.TokenizerDirectory;
        int batchSize = InputChecks.Value(parsed, BatchSize, size => size >= 1, "must be at least 1");
        int requested = InputChecks.Value(parsed, MaxLength, length => length >= 2, "must be at least 2");
        var (maxLength, note) = ContextWindow.Of(modelDir).Cap(MaxLength.Name, requested);
        if (note is not null) parsed.InvocationConfiguration.Output.WriteLine($"note: {note}");
        var tokenizer = TokenizerLoader.FromDirectory(tokenizerDir) ?? throw new RlhfException($"{tokenizerDir}: no tokenizer files");
        var data = DatasetReader.ReadPreferences(parsed.GetValue(Data)!, ReadOptions.ForModel(tokenizerDir, parsed.GetValue(SkipBadRows)));
        var encoder = new ExampleEncoder(tokenizer);
        var pairs = data.Examples.Select(p => encoder.EncodePreference(p, maxLength)).ToList();

        CliApp.InitializeTorch(parsed);
        using var model = source.LoadRewardModel();
        IReadOnlyDictionary<string, double> metrics;
        using (TorchSharp.torch.no_grad()) metrics = new RewardObjective(model, new RewardOptions()).Evaluate(pairs, batchSize);

        var table = new Table().AddColumns("pairs", "accuracy", "mean margin", "reward mean", "reward std");
        table.AddRow($"{pairs.Count}", $"{metrics["eval_accuracy"]:P1}", $"{metrics["eval_margin"]:F4}", $"{metrics["eval_reward_mean"]:F4}", $"{metrics["eval_reward_std"]:F4}");
        CliApp.Console(parsed).Write(table);
        parsed.InvocationConfiguration.Output.WriteLine(
            $"pairs {pairs.Count} accuracy {metrics["eval_accuracy"]:F4} mean_margin {metrics["eval_margin"]:F4} (skipped rows: {data.SkippedRows}, ties left out: {data.SkippedTies})");
        return 0;
    }
}
