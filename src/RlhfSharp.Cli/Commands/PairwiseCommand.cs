using System.CommandLine;
using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Data;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Generation;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf eval pairwise prepare|judge|report`: blind model-vs-model comparisons and their statistics.</summary>
internal static class PairwiseCommand
{
    public static Command Build()
    {
        var pairwise = new Command("pairwise", "Blind pairwise comparisons of two models: prepare them, judge them automatically, report the statistics.");
        pairwise.Subcommands.Add(Prepare());
        pairwise.Subcommands.Add(Judge());
        pairwise.Subcommands.Add(Report());
        return pairwise;
    }

    /// <summary>
    /// The prompts as each model is fed them: chat rows through each model's own chat template (HH without one). Both models
    /// answer the same text, which judges see, so two models that render the prompts differently are refused.
    /// </summary>
    static IReadOnlyList<string> ReadPrompts(string path, (Option<string> Flag, string TokenizerDir) a, (Option<string> Flag, string TokenizerDir) b)
    {
        var forA = DatasetReader.ReadPrompts(path, ReadOptions.ForModel(a.TokenizerDir, skipBadRows: false)).Examples;
        var forB = DatasetReader.ReadPrompts(path, ReadOptions.ForModel(b.TokenizerDir, skipBadRows: false)).Examples;
        int differing = forA.Zip(forB).Count(pair => pair.First != pair.Second);
        if (differing > 0)
            throw new RlhfException($"{path}: {a.Flag.Name} and {b.Flag.Name} render {differing} of {forA.Count} chat prompts differently " +
                "(their chat templates differ); both models must answer the same prompt text: compare models that share a template, or give plain-text prompts");
        return forA;
    }

    static Command Prepare()
    {
        var modelA = new Option<string>("--model-a") { Description = "model A folder, hub id org/name or LoRA adapter folder (e.g. the SFT model)", Required = true };
        var modelB = new Option<string>("--model-b") { Description = "model B folder, hub id org/name or LoRA adapter folder (e.g. the RLHF policy)", Required = true };
        var adapterA = ModelSources.AdapterOption("--adapter-a", modelA.Name);
        var adapterB = ModelSources.AdapterOption("--adapter-b", modelB.Name);
        var prompts = new Option<string>("--prompts") { Description = "prompts (a \"prompt\" field, HH-RLHF dialogues such as the HH test set, RealToxicityPrompts JSONL, or plain text with one prompt a line)", Required = true };
        var count = new Option<int>("--n") { Description = "comparisons to prepare (a seeded sample of the prompts)", DefaultValueFactory = _ => 100 };
        var flags = new SamplingFlags(new SamplingOptions { MaxNewTokens = 128, Temperature = 0.7, StopSequences = ["\n\nHuman:"] },
            seedHelp: "seed for the prompt sample and for sampling");
        var seedB = new Option<ulong?>("--seed-b") { Description = "seed of model B's sampling (default: --seed); give another to compare two samples of one model" };
        var output = new Option<string>("--out") { Description = "comparisons JSONL to write (settings go to FILE.meta.json)", Required = true };
        var command = new Command("prepare", "Generate both models' responses to the same prompts with the same settings and seed.");
        foreach (var option in new Option[] { modelA, adapterA, modelB, adapterB, InputChecks.Revision, prompts, count }.Concat(flags.All).Append(seedB).Append(output)) command.Options.Add(option);
        command.SetAction(parsed =>
        {
            var sampling = flags.Read(parsed);
            var sourceA = ModelSources.Resolve(parsed, modelA, adapterA);
            var sourceB = ModelSources.Resolve(parsed, modelB, adapterB);
            // Both models' contexts from their config.json, before any prompt is read or model loaded.
            foreach (var (model, source) in new[] { (modelA, sourceA), (modelB, sourceB) })
                InputChecks.Flagged(() => ContextWindow.Of(source.BaseDirectory, $"{model.Name} {parsed.GetValue(model)}'s").PromptRoom(sampling.MaxNewTokens));
            var promptList = ReadPrompts(parsed.GetValue(prompts)!, (modelA, sourceA.TokenizerDirectory), (modelB, sourceB.TokenizerDirectory));
            var tokenizerA = FittingTokenizer(sourceA, $"{modelA.Name} {parsed.GetValue(modelA)}");
            var tokenizerB = FittingTokenizer(sourceB, $"{modelB.Name} {parsed.GetValue(modelB)}");
            CliApp.InitializeTorch(parsed);
            using var a = sourceA.LoadCausalLm();
            using var b = sourceB.LoadCausalLm();
            var comparisons = PairwisePreparation.Prepare((ModelSources.Name(parsed.GetValue(modelA)!, sourceA), a, tokenizerA),
                (ModelSources.Name(parsed.GetValue(modelB)!, sourceB), b, tokenizerB), promptList, Math.Min(parsed.GetValue(count), promptList.Count), sampling,
                log: parsed.InvocationConfiguration.Output, seedB: parsed.GetValue(seedB));
            string outPath = parsed.GetValue(output)!;
            ComparisonFile.Write(outPath, comparisons);
            AtomicFile.WriteAllText(outPath + ".meta.json", JsonSerializer.Serialize(new
            {
                model_a = Path.GetFullPath(sourceA.BaseDirectory), adapter_a = FullPathOrNull(sourceA.AdapterDirectory),
                model_b = Path.GetFullPath(sourceB.BaseDirectory), adapter_b = FullPathOrNull(sourceB.AdapterDirectory),
                prompts = Path.GetFullPath(parsed.GetValue(prompts)!), n = comparisons.Count, seed = sampling.Seed, seed_b = parsed.GetValue(seedB) ?? sampling.Seed,
                sampling = new { max_new_tokens = sampling.MaxNewTokens, greedy = sampling.Greedy, temperature = sampling.Temperature, top_k = sampling.TopK, top_p = sampling.TopP, stop = sampling.StopSequences },
            }, new JsonSerializerOptions { WriteIndented = true }));
            parsed.InvocationConfiguration.Output.WriteLine($"wrote {comparisons.Count} comparisons to {outPath}");
            return 0;
        });
        return command;
    }

    /// <summary>The model's tokenizer, refused before any weights load when it has ids the model cannot embed.</summary>
    static ITextTokenizer FittingTokenizer(AdaptedModelSource source, string label)
    {
        var tokenizer = Tokenizer(source);
        VocabularyFit.Require(tokenizer, source.TokenizerDirectory, source.BaseDirectory, label);
        return tokenizer;
    }

    static ITextTokenizer Tokenizer(AdaptedModelSource source) =>
        TokenizerLoader.FromDirectory(source.TokenizerDirectory) ?? throw new RlhfException($"{source.TokenizerDirectory}: no tokenizer files");

    static string? FullPathOrNull(string? path) => path is null ? null : Path.GetFullPath(path);

    static Command Judge()
    {
        var comparisons = new Option<string>("--comparisons") { Description = "comparisons JSONL (from prepare or any tool)", Required = true };
        var judgeFlags = new RewardJudgeFlags();
        var output = new Option<string>("--out") { Description = "folder for judgments.jsonl and the report", Required = true };
        var command = new Command("judge", "Judge comparisons with a reward model and report them with the same statistics as human judgments.");
        foreach (var option in judgeFlags.All.Prepend(comparisons).Append(output)) command.Options.Add(option);
        command.SetAction(parsed =>
        {
            var source = judgeFlags.Resolve(parsed);
            var items = ComparisonFile.Read(parsed.GetValue(comparisons)!);
            using var loaded = judgeFlags.Load(parsed, source);
            var judge = loaded.Judge;
            var judgments = PairwiseJudges.Apply(judge, items);
            string outDir = parsed.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            JudgmentFile.Write(Path.Combine(outDir, "judgments.jsonl"), judgments);
            return WriteReport(parsed, judgments, items[0].ModelA, items[0].ModelB, outDir);
        });
        return command;
    }

    static Command Report()
    {
        var db = new Option<string?>("--db") { Description = "annotation database (from `rlhf annotate serve`)" };
        var judgmentsFile = new Option<string?>("--judgments") { Description = "judgments JSONL (from `judge`), instead of --db" };
        var comparisons = new Option<string?>("--comparisons") { Description = "the comparisons the --judgments refer to (for the model names)" };
        var output = new Option<string?>("--out") { Description = "folder for report.md, report.json and report.html" };
        var command = new Command("report", "Win/tie/loss, the share where B is at least as good, Wilson interval, sign test, per-annotator counts and agreement.");
        foreach (var option in new Option[] { db, judgmentsFile, comparisons, output }) command.Options.Add(option);
        command.SetAction(parsed =>
        {
            IReadOnlyList<PairwiseJudgment> judgments;
            string modelA, modelB;
            if (parsed.GetValue(db) is { } dbPath)
                (judgments, modelA, modelB) = AnnotationJudgments.Read(dbPath);
            else if (parsed.GetValue(judgmentsFile) is { } path && parsed.GetValue(comparisons) is { } comparisonPath)
            {
                judgments = JudgmentFile.Read(path);
                var first = ComparisonFile.Read(comparisonPath)[0];
                (modelA, modelB) = (first.ModelA, first.ModelB);
            }
            else throw new RlhfException("give --db, or --judgments with --comparisons");
            return WriteReport(parsed, judgments, modelA, modelB, parsed.GetValue(output));
        });
        return command;
    }

    static int WriteReport(ParseResult parsed, IReadOnlyList<PairwiseJudgment> judgments, string modelA, string modelB, string? outDir)
    {
        if (judgments.Count == 0) throw new RlhfException("no judgments yet");
        var report = PairwiseStatistics.Compute(judgments, modelA, modelB);
        parsed.InvocationConfiguration.Output.WriteLine(PairwiseReportWriter.ToMarkdown(report));
        if (outDir is not null)
        {
            PairwiseReportWriter.WriteAll(report, outDir);
            parsed.InvocationConfiguration.Output.WriteLine($"report written to {outDir} (report.md, report.json, report.html)");
        }
        return 0;
    }
}
