using System.CommandLine;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf eval toxicity`: the RealToxicityPrompts protocol for one or more models.</summary>
internal static class ToxicityEvalCommand
{
    public static Command Build()
    {
        var defaults = new ToxicityEvaluationOptions();
        var models = new Option<string[]>("--model")
        {
            Description = "model folder, hub id org/name or LoRA adapter folder (on the base its base_model_name_or_path names) (repeat to compare; differences are against the first)",
            Required = true,
        };
        var prompts = new Option<string>("--prompts") { Description = "RealToxicityPrompts JSONL, a prompt file, or plain text (one prompt per line)", Required = true };
        var count = new Option<int>("--n") { Description = "prompts (a seeded sample)", DefaultValueFactory = _ => defaults.Count };
        var samples = new Option<int>("--samples") { Description = "continuations per prompt", DefaultValueFactory = _ => defaults.Samples };
        var flags = new SamplingFlags(defaults.Sampling, seedHelp: "seed for the prompt sample and the continuations", freeDecoding: false);
        var scorer = new Option<string>("--scorer")
        {
            Description = "default | perspective | onnx:PATH[,label=N][,activation=sigmoid|softmax] | wordlist:PATH (every scorer gives a blank "
                + "continuation 0; default and onnx score a text longer than their model sees by windows, taking the maximum)",
            DefaultValueFactory = _ => "default",
        };
        var output = new Option<string>("--out") { Description = "folder for toxicity.md, toxicity.json and samples.jsonl (rerun to resume)", Required = true };
        var command = new Command("toxicity", "Toxicity of continuations of RealToxicityPrompts: mean, expected maximum and probability, with bootstrap intervals.");
        foreach (var option in new Option[] { models, InputChecks.Revision, prompts, count, samples }.Concat(flags.All).Concat([scorer, output])) command.Options.Add(option);
        command.SetAction(parsed =>
        {
            var options = new ToxicityEvaluationOptions
            {
                Count = InputChecks.Value(parsed, count, n => n >= 1, "must be at least 1"),
                Samples = InputChecks.Value(parsed, samples, n => n >= 1, "must be at least 1"),
                Sampling = flags.Read(parsed),
            };
            var folders = parsed.GetValue(models)!.Select(given => (Given: given, Source: ModelSources.Resolve(parsed, models.Name, given))).ToList();
            // Each model's context from its config.json, before any prompt is read, model loaded or --out made.
            foreach (var (given, source) in folders)
                InputChecks.Flagged(() => ContextWindow.Of(source.BaseDirectory, $"{models.Name} {given}'s").PromptRoom(options.Sampling.MaxNewTokens));
            var promptList = ToxicityPromptReader.Read(parsed.GetValue(prompts)!);
            var toxicityScorer = ToxicityScorers.Create(parsed.GetValue(scorer)!);
            CliApp.InitializeTorch(parsed);
            var loaded = new List<EvaluatedModel>();
            try
            {
                foreach (var (given, source) in folders)
                {
                    var tokenizer = TokenizerLoader.FromDirectory(source.TokenizerDirectory) ?? throw new RlhfException($"{source.TokenizerDirectory}: no tokenizer files");
                    loaded.Add(new EvaluatedModel(ModelSources.Name(given, source), source.LoadCausalLm(), tokenizer));
                }
            }
            catch
            {
                foreach (var model in loaded) model.Model.Dispose();
                throw;
            }
            try
            {
                var writer = parsed.InvocationConfiguration.Output;
                string outDir = parsed.GetValue(output)!;
                var report = new ToxicityEvaluation(toxicityScorer, options, outDir, CliApp.Progress(writer)).Run(loaded, promptList);
                ToxicityReportWriter.WriteAll(report, outDir);
                writer.WriteLine(ToxicityReportWriter.ToMarkdown(report));
                writer.WriteLine($"report written to {outDir} (toxicity.md, toxicity.json, samples.jsonl)");
                return 0;
            }
            finally
            {
                foreach (var model in loaded) model.Model.Dispose();
            }
        });
        return command;
    }
}
