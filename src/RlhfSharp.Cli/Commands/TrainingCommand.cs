using System.CommandLine;
using System.Text.Json;
using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.IO;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using RlhfSharp.Training.Infrastructure;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// The flow `rlhf sft` and `rlhf reward` share: resolve options, read and encode the data, load the model,
/// and only then touch the output folder, so bad input never leaves a half-written or clobbered run.
/// Under mpirun every rank runs this flow data-parallel; only rank 0 prints and writes the run folder.
/// </summary>
public static class TrainingCommand
{
    public static int Run<TOptions, TExample, TEncoded>(
        ParseResult parsed,
        TrainingCommandOptions<TOptions> cli,
        Func<string, ReadOptions, DatasetReadResult<TExample>> read,
        Func<ExampleEncoder, TExample, int, TEncoded> encode,
        Func<string, TOptions, ITrainingObjective<TEncoded>> createObjective)
        where TOptions : SupervisedTrainingOptions, new()
    {
        var output = parsed.InvocationConfiguration.Output;
        var options = cli.Resolve(parsed);
        string modelDir = parsed.GetValue(cli.Model)!, dataPath = parsed.GetValue(cli.Data)!, outDir = parsed.GetValue(cli.Out)!;
        bool resume = parsed.GetValue(cli.Resume);
        using var world = World.FromEnvironment();
        if (!world.IsRoot) output = TextWriter.Null;
        RequireUsableOutput(outDir, resume);
        world.Barrier(); // every rank has checked the folder before rank 0 writes to it

        var tokenizer = TokenizerLoader.FromDirectory(modelDir)
            ?? throw new RlhfException($"{modelDir}: no tokenizer files (tokenizer.json, vocab.json + merges.txt or tokenizer.model); training on text needs one");
        var readOptions = new ReadOptions { SkipBadRows = options.SkipBadRows };
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

        var encoder = new ExampleEncoder(tokenizer);
        var encodedTrain = train.Select(e => encode(encoder, e, options.MaxLength)).ToList();
        var encodedHeldOut = heldOut.Select(e => encode(encoder, e, options.MaxLength)).ToList();
        output.WriteLine($"data: {encodedTrain.Count} training and {encodedHeldOut.Count} held-out examples from {dataPath}" +
            $" ({data.SkippedRows} bad rows skipped; {(ties > 0 ? $"{ties} ties left out (a tie prefers neither response); " : "")}{encoder.PromptTruncatedCount} prompts cut from the left and {encoder.ResponseTruncatedCount} responses cut to fit {options.MaxLength} tokens)");

        CliApp.InitializeTorch(parsed);
        TorchSharp.torch.manual_seed(options.Seed);
        var objective = createObjective(modelDir, options);
        using var model = objective.Model;

        if (world.IsRoot)
        {
            Directory.CreateDirectory(outDir);
            YamlConfig.Save(Path.Combine(outDir, $"{objective.Name}_options.yaml"), options);
            AtomicFile.WriteAllText(Path.Combine(outDir, "run.json"), JsonSerializer.Serialize(new
            {
                command = objective.Name, model = Path.GetFullPath(modelDir), data = Path.GetFullPath(dataPath),
                eval_data = parsed.GetValue(cli.EvalData), threads = TorchSharp.torch.get_num_threads(), ranks = world.Size,
            }, new JsonSerializerOptions { WriteIndented = true }));
        }

        bool live = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var summary = new TrainingLoop<TEncoded>(objective, options, outDir, output, live, world).Run(encodedTrain, encodedHeldOut, resume);
        string metrics = string.Join(", ", summary.LastTrainMetrics.Concat(summary.LastEvalMetrics).Select(m => $"{m.Key} {m.Value:G5}"));
        output.WriteLine($"done: {summary.Steps} steps; {metrics}");
        output.WriteLine($"model saved to {outDir}");
        world.Finish();
        return 0;
    }

    /// <summary>An existing run is continued only with --resume, never overwritten.</summary>
    public static void RequireUsableOutput(string outDir, bool resume)
    {
        if (File.Exists(outDir)) throw new RlhfException($"{outDir}: --out is a file, not a folder");
        if (!resume && Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new RlhfException($"{outDir}: folder is not empty; pass --resume to continue that run or choose a new --out");
    }
}
