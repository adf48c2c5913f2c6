using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// The flow `rlhf sft`, `rlhf reward` and `rlhf dpo` share: resolve options, read and encode the data, load the model,
/// and only then touch the output folder, so bad input never leaves a half-written or clobbered run.
/// Under mpirun every rank runs this flow data-parallel; only rank 0 prints and writes the run folder.
/// </summary>
internal static class TrainingCommand
{
    public static int Run<TOptions, TExample, TEncoded>(
        ParseResult parsed,
        TrainingCommandOptions<TOptions> cli,
        Func<string, ReadOptions, DatasetReadResult<TExample>> read,
        Func<ExampleEncoder, TExample, int, TEncoded> encode,
        Func<ModelOrigin, TOptions, ITrainingObjective<TEncoded>> createObjective)
        where TOptions : SupervisedTrainingOptions, new()
    {
        var given = cli.Resolve(parsed);
        // The model, or an adapter on it (--adapter, or an adapter folder as --model): the run then continues that adapter.
        string modelGiven = parsed.GetValue(cli.Model)!, dataPath = parsed.GetValue(cli.Data)!;
        var source = ModelSources.Resolve(parsed, cli.Model.Name, modelGiven, cli.Adapter);
        string modelDir = source.BaseDirectory, tokenizerDir = source.TokenizerDirectory;
        string? adapter = source.AdapterDirectory;
        var resolved = cli.ContinueAdapter(parsed, given, adapter);
        var (options, lowered) = cli.FitMaxLength(parsed, resolved, ContextWindow.Of(modelDir).Cap);
        // Before the run folder exists: a tokenizer with ids past the model's vocabulary would fail mid-step in LibTorch.
        var tokenizer = TokenizerLoader.FromDirectory(tokenizerDir)
            ?? throw new RlhfException($"{tokenizerDir}: no tokenizer files (tokenizer.json, vocab.json + merges.txt or tokenizer.model); training on text needs one");
        VocabularyFit.Require(tokenizer, tokenizerDir, modelDir, $"{cli.Model.Name} {modelGiven}");
        using var run = RunLifecycle<TOptions>.Open(parsed, cli, options);
        var output = run.Output;
        if (lowered is not null) output.WriteLine($"note: {lowered}");

        var readOptions = ReadOptions.ForModel(tokenizerDir, options.SkipBadRows);
        var data = read(dataPath, readOptions);
        IReadOnlyList<TExample> train = data.Examples, heldOut;
        int ties = data.SkippedTies;
        if (parsed.GetValue(cli.EvalData) is { } evalPath)
        {
            var evalData = read(evalPath, readOptions);
            (heldOut, ties) = (evalData.Examples, ties + evalData.SkippedTies);
        }
        else if (options.HeldOutFraction > 0 && train.Count >= 2) (train, heldOut) = DatasetSplit.Split(data.Examples, options.HeldOutFraction, options.Seed);
        else heldOut = [];
        if (train.Count == 0) throw new RlhfException($"{dataPath}: no training examples");

        var encoder = new ExampleEncoder(tokenizer);
        var encodedTrain = train.Select(e => encode(encoder, e, options.MaxLength)).ToList();
        var encodedHeldOut = heldOut.Select(e => encode(encoder, e, options.MaxLength)).ToList();
        output.WriteLine($"data: {encodedTrain.Count} training and {encodedHeldOut.Count} held-out examples from {dataPath}" +
            $" ({data.SkippedRows} bad rows skipped; {(ties > 0 ? $"{ties} ties left out (a tie prefers neither response); " : "")}{encoder.PromptTruncatedCount} prompts cut from the left and {encoder.ResponseTruncatedCount} responses cut to fit {options.MaxLength} tokens)");

        CliApp.InitializeTorch(parsed);
        TorchSharp.torch.manual_seed(options.Seed);
        var objective = createObjective(new ModelOrigin(modelDir, ModelSources.BaseName(modelGiven, source), adapter) { TokenizerDirectory = tokenizerDir }, options);
        using var model = objective.Model;
        cli.Check(parsed, () => LayerFreezing.RequireLayers(objective.Config, options.FreezeBottomLayers));
        cli.Check(parsed, () => objective.Trained.Prepare(options)); // LoRA adapters now, so a target no layer has is an error naming --lora-target

        var loop = new TrainingLoop<TEncoded>(objective, options, run.OutDir, run.Progress, run.World);
        var summary = run.Train(
            [new("model", Path.GetFullPath(modelDir)), new("adapter", adapter is null ? null : Path.GetFullPath(adapter)), new("data", Path.GetFullPath(dataPath)),
             new("eval_data", parsed.GetValue(cli.EvalData))],
            "step", () => loop.CompletedSteps, () => loop.Run(encodedTrain, encodedHeldOut, run.Resume));
        string metrics = string.Join(", ", summary.LastTrainMetrics.Concat(summary.LastEvalMetrics).Select(m => $"{m.Key} {m.Value:G5}"));
        return run.Finish($"done: {summary.Steps} steps; {metrics}", $"model saved to {run.OutDir}");
    }
}
