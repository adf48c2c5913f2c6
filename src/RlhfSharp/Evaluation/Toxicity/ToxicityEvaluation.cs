using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>A model under evaluation.</summary>
public sealed record EvaluatedModel(string Name, CausalLanguageModel Model, ITextTokenizer Tokenizer);

/// <summary>
/// The RealToxicityPrompts protocol: a seeded sample of prompts, k sampled continuations per prompt from each
/// model, each scored, then mean toxicity, expected maximum toxicity and toxicity probability with bootstrap
/// intervals, by prompt toxicity, and the difference between models. Both models draw continuations with the
/// same per-prompt seeds. Work is appended to samples.jsonl prompt by prompt; a rerun continues where it stopped.
/// Progress (a step a prompt and model) and the resume line go to <paramref name="progress"/> (default: nowhere).
/// </summary>
public sealed class ToxicityEvaluation(IToxicityScorer scorer, ToxicityEvaluationOptions options, string outputDirectory, IProgressSink? progress = null)
{
    readonly IProgressSink _progress = progress ?? SilentProgress.Instance;

    public const string SamplesFile = "samples.jsonl";

    public ToxicityReport Run(IReadOnlyList<EvaluatedModel> models, IReadOnlyList<ToxicityPrompt> allPrompts)
    {
        if (models.Count == 0) throw new RlhfException("no models to evaluate");
        if (models.Select(m => m.Name).Distinct().Count() != models.Count) throw new RlhfException("two models have the same name; pass distinct folders");
        var prompts = Sample(allPrompts);
        // Every model's prompt budget before the folder is made: a max_new_tokens that leaves one no room is refused first.
        var budgets = models.ToDictionary(m => m.Name, m => ContextWindow.Of(m.Model.Config, $"{m.Name}'s").PromptRoom(options.Sampling.MaxNewTokens));
        Directory.CreateDirectory(outputDirectory);
        RequireSameSettings();
        using var samples = new ToxicitySampleLog(Path.Combine(outputDirectory, SamplesFile));
        int done = samples.Completed.Count(p => models.Any(m => m.Name == p.Key.Model) && p.Key.PromptIndex < prompts.Count);
        if (done > 0) _progress.Log.WriteLine($"resuming: {done} of {models.Count * prompts.Count} prompt samples already done");
        using (var steps = _progress.Start("toxicity", models.Count * prompts.Count, done))
        {
            foreach (var model in models)
            {
                for (int i = 0; i < prompts.Count; i++)
                {
                    if (samples.Completed.ContainsKey((model.Name, i))) continue;
                    var continuations = Continue(model, budgets[model.Name], prompts[i].Text, i);
                    samples.Append(new ToxicitySample(model.Name, i, prompts[i].Text, prompts[i].PromptToxicity, continuations, scorer.Score(continuations)));
                    steps.Report(++done, new Dictionary<string, double>());
                }
            }
        }
        return Summarise(models.Select(m => m.Name).ToList(), Enumerable.Range(0, prompts.Count).Select(i => prompts[i]).ToList(), samples.Completed);
    }

    /// <summary>Samples made with other settings or another scorer must not be mixed into this run's statistics.</summary>
    void RequireSameSettings()
    {
        string path = Path.Combine(outputDirectory, "toxicity-settings.json");
        string settings = System.Text.Json.JsonSerializer.Serialize(new
        {
            scorer = scorer.Name, samples = options.Samples, max_new_tokens = options.Sampling.MaxNewTokens, temperature = options.Sampling.Temperature,
            top_k = options.Sampling.TopK, top_p = options.Sampling.TopP, seed = options.Sampling.Seed,
        });
        // A run that stopped before its first sample (a scorer that failed at once) holds nothing to mix: it may start over.
        if (File.Exists(path) && File.ReadAllText(path) != settings && ToxicitySampleLog.HasSamples(Path.Combine(outputDirectory, SamplesFile)))
            throw new RlhfException($"{path}: {SamplesFile} there was made with other settings ({File.ReadAllText(path)}); use a new --out");
        IO.AtomicFile.WriteAllText(path, settings);
    }

    IReadOnlyList<ToxicityPrompt> Sample(IReadOnlyList<ToxicityPrompt> prompts)
    {
        int[] order = Enumerable.Range(0, prompts.Count).ToArray();
        new Random((int)(options.Sampling.Seed % int.MaxValue)).Shuffle(order);
        return order.Take(Math.Min(options.Count, prompts.Count)).Select(i => prompts[i]).ToList();
    }

    IReadOnlyList<string> Continue(EvaluatedModel model, int budget, string prompt, int promptIndex)
    {
        var ids = PromptFit.CutLeft(model.Tokenizer.Encode(prompt), budget);
        if (ids.Count == 0) ids = [model.Tokenizer.Special.BosId ?? model.Tokenizer.Special.EosId ?? 0];
        var sampling = options.Sampling with { Seed = (ulong)Training.Seeds.Derive((long)(options.Sampling.Seed & long.MaxValue), promptIndex) };
        // One stream per sample of this prompt (the prompt's seed, the sample's index).
        return new TextGenerator(model.Model, model.Tokenizer)
            .Generate(Enumerable.Repeat(ids, options.Samples).ToList(), sampling)
            .Select(g => g.Text ?? "").ToList();
    }

    ToxicityReport Summarise(IReadOnlyList<string> modelNames, IReadOnlyList<ToxicityPrompt> prompts, IReadOnlyDictionary<(string, int), ToxicitySample> samples)
    {
        IEnumerable<ToxicitySample> Kept(string model, Func<ToxicityPrompt, bool> keep) =>
            Enumerable.Range(0, prompts.Count).Where(i => keep(prompts[i])).Select(i => samples[(model, i)]);
        double[][] Scores(string model, Func<ToxicityPrompt, bool> keep) => Kept(model, keep).Select(s => s.Scores.ToArray()).ToArray();

        ToxicityStatistics? Statistics(string model, Func<ToxicityPrompt, bool> keep)
        {
            var scores = Scores(model, keep);
            if (scores.Length == 0) return null;
            int seed = (int)(options.Sampling.Seed % int.MaxValue);
            return new ToxicityStatistics(scores.Length,
                ToxicityMetrics.Bootstrap(scores, ToxicityMetrics.MeanToxicity, seed, options.BootstrapResamples),
                ToxicityMetrics.Bootstrap(scores, ToxicityMetrics.ExpectedMaximum, seed, options.BootstrapResamples),
                ToxicityMetrics.Bootstrap(scores, ToxicityMetrics.ToxicityProbability, seed, options.BootstrapResamples),
                Kept(model, keep).Sum(s => s.Continuations.Count(string.IsNullOrWhiteSpace)));
        }

        bool known = prompts.All(p => p.PromptToxicity is not null);
        var perModel = modelNames.Select(m => new ModelToxicity(m, Statistics(m, _ => true)!,
            known ? Statistics(m, p => p.PromptToxicity >= ToxicityMetrics.ToxicThreshold) : null,
            known ? Statistics(m, p => p.PromptToxicity < ToxicityMetrics.ToxicThreshold) : null)).ToList();
        var differences = modelNames.Skip(1).Select(b =>
        {
            string a = modelNames[0];
            var (scoresA, scoresB) = (Scores(a, _ => true), Scores(b, _ => true));
            int seed = (int)(options.Sampling.Seed % int.MaxValue);
            return new ToxicityDifference(a, b,
                ToxicityMetrics.PairedDifference(scoresA, scoresB, ToxicityMetrics.MeanToxicity, seed, options.BootstrapResamples),
                ToxicityMetrics.PairedDifference(scoresA, scoresB, ToxicityMetrics.ExpectedMaximum, seed, options.BootstrapResamples),
                ToxicityMetrics.PairedDifference(scoresA, scoresB, ToxicityMetrics.ToxicityProbability, seed, options.BootstrapResamples));
        }).ToList();
        return new ToxicityReport(scorer.Name, options, perModel, differences);
    }
}
