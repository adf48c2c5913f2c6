using System.Text.Json;
using System.Text.Json.Serialization;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.Generation;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Cli.Demo;

/// <summary>
/// The evaluation stage: the oracle judges RLHF against SFT on held-out prompts through the pairwise statistics used
/// for human studies, the default toxicity scorer rates both models' responses (RealToxicityPrompts protocol), and the
/// reward model's held-out accuracy and PPO's curve are collected. Everything lands in eval/ and eval/results.json.
/// </summary>
internal sealed class DemoEvaluation(DemoPipeline pipeline, DemoSettings settings, bool liveProgress, TextWriter output)
{
    public const string ResultsFile = "results.json";
    public const string SftName = "sft", RlhfName = "rlhf";
    /// <summary>Sampling temperature of the compared responses (`rlhf eval pairwise prepare`'s default).</summary>
    public const double EvalTemperature = 0.7;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public DemoResults Run()
    {
        var world = pipeline.World;
        var oracle = new Oracle(world, settings.LabelNoise, settings.Seed + 7);
        using var sft = CausalLanguageModel.FromPretrained(pipeline.At("sft"), withoutDropout: true);
        using var rlhf = CausalLanguageModel.FromPretrained(pipeline.At("ppo"), withoutDropout: true);
        var tokenizer = TokenizerLoader.FromDirectory(pipeline.At("sft"))!;

        // Blind pairwise comparison on held-out prompts, sampled as a user would see the models.
        var sampling = new SamplingOptions
        {
            MaxNewTokens = settings.MaxNewTokens, Temperature = EvalTemperature, Seed = (ulong)settings.Seed, StopSequences = ["\n\nHuman:"],
        };
        var comparisons = PairwisePreparation.Prepare((SftName, sft, tokenizer), (RlhfName, rlhf, tokenizer),
            world.HeldOut.Select(r => r.Prompt).ToList(), Math.Min(settings.EvalPrompts, world.HeldOut.Count), sampling, batchSize: 25);
        string pairwiseDir = pipeline.At("eval", "pairwise");
        Directory.CreateDirectory(pairwiseDir);
        ComparisonFile.Write(Path.Combine(pairwiseDir, "comparisons.jsonl"), comparisons);
        var judgments = PairwiseJudges.Apply(oracle, comparisons);
        JudgmentFile.Write(Path.Combine(pairwiseDir, "judgments.jsonl"), judgments);
        var pairwise = PairwiseStatistics.Compute(judgments, SftName, RlhfName);
        PairwiseReportWriter.WriteAll(pairwise, pairwiseDir);
        var items = pairwise.Items;
        var pairwiseResult = new PairwiseResult(items.Total, items.B, items.Tie, items.A, pairwise.BAtLeastAsGood ?? 0, pairwise.BWinRate,
            pairwise.BWinRateInterval?.Lower, pairwise.BWinRateInterval?.Upper, pairwise.SignTestP, oracle.Name);
        output.WriteLine($"pairwise (oracle, {items.Total} held-out prompts): RLHF wins {items.B}, ties {items.Tie}, loses {items.A}; " +
            $"at least as good on {pairwiseResult.AtLeastAsGood:P0}; sign test p = {pairwise.SignTestP:G3}");

        var requests = comparisons.Select(c => world.Find(c.Prompt)!).ToList();
        var styles = new Dictionary<string, IReadOnlyDictionary<ResponseStyle, int>>
        {
            [SftName] = StyleCounts(requests, comparisons.Select(c => c.ResponseA).ToList()),
            [RlhfName] = StyleCounts(requests, comparisons.Select(c => c.ResponseB).ToList()),
        };

        var toxicity = Toxicity(sft, rlhf, tokenizer);
        var results = new DemoResults(RewardModel(oracle), pairwiseResult, styles, toxicity, Ppo(), Samples(requests, comparisons));
        AtomicFile.WriteAllText(pipeline.At("eval", ResultsFile), JsonSerializer.Serialize(results, Json));
        return results;
    }

    static IReadOnlyDictionary<ResponseStyle, int> StyleCounts(IReadOnlyList<Request> requests, IReadOnlyList<string> responses)
    {
        var counts = requests.Select((r, i) => Oracle.Classify(r, responses[i])).CountBy(s => s).ToDictionary();
        return Enum.GetValues<ResponseStyle>().ToDictionary(s => s, s => counts.GetValueOrDefault(s));
    }

    /// <summary>Every held-out insult and harmful request, then benign ones, up to the configured count; each prompt's own
    /// toxicity is scored too, so the report splits results by toxic and non-toxic prompts as RealToxicityPrompts does.</summary>
    ToxicityResult Toxicity(CausalLanguageModel sft, CausalLanguageModel rlhf, ITextTokenizer tokenizer)
    {
        using var scorer = DefaultToxicityScorer.Create();
        var benign = pipeline.World.HeldOut.Where(r => r.Kind == RequestKind.Benign).ToArray();
        new Random(settings.Seed).Shuffle(benign);
        var chosen = pipeline.World.HeldOut.Where(r => r.Kind != RequestKind.Benign).Concat(benign).Take(settings.ToxicityPrompts).ToList();
        var promptScores = scorer.Score(chosen.Select(r => r.HumanTurn).ToList());
        var prompts = chosen.Select((r, i) => new ToxicityPrompt(r.Prompt, promptScores[i])).ToList();
        var options = new ToxicityEvaluationOptions
        {
            Count = prompts.Count, Samples = settings.ToxicitySamples,
            Sampling = ToxicityEvaluationOptions.ProtocolSampling with { MaxNewTokens = settings.MaxNewTokens, Seed = (ulong)settings.Seed },
        };
        string directory = pipeline.At("eval", "toxicity");
        var report = new ToxicityEvaluation(scorer, options, directory, liveProgress ? CliApp.Progress(output) : new Display.PlainProgressSink(output))
            .Run([new EvaluatedModel(SftName, sft, tokenizer), new EvaluatedModel(RlhfName, rlhf, tokenizer)], prompts);
        ToxicityReportWriter.WriteAll(report, directory);
        var difference = report.Differences.Single().MeanToxicity;
        output.WriteLine($"toxicity ({prompts.Count} held-out prompts x {options.Samples}): SFT {report.Models[0].All.MeanToxicity.Value:F3}, " +
            $"RLHF {report.Models[1].All.MeanToxicity.Value:F3} (difference {difference.Value:+0.000;-0.000}, 95% interval {difference.Lower:+0.000;-0.000} to {difference.Upper:+0.000;-0.000})");
        return new ToxicityResult(prompts.Count, options.Samples, report.Models[0].All.MeanToxicity.Value, report.Models[1].All.MeanToxicity.Value,
            difference.Value, difference.Lower, difference.Upper, report.Scorer);
    }

    /// <summary>Scores the held-out pairs with the reward model, as `rlhf eval reward` does, and breaks its accuracy down by style.</summary>
    RewardModelResult RewardModel(Oracle oracle)
    {
        var pairs = Data.DatasetReader.ReadPreferences(pipeline.DataFile("prefs-heldout.jsonl")).Examples;
        using var model = SequenceRewardModel.FromPretrained(pipeline.At("rm"));
        var scorer = new Rewards.RewardModelScorer(model, TokenizerLoader.FromDirectory(pipeline.At("rm"))!, settings.MaxLength, batchSize: 32);
        var prompts = pairs.Select(p => p.Prompt).ToList();
        var chosen = scorer.Score(Rewards.RewardSample.Of(prompts, pairs.Select(p => p.Chosen).ToList()));
        var rejected = scorer.Score(Rewards.RewardSample.Of(prompts, pairs.Select(p => p.Rejected).ToList()));
        var rows = pairs.Select((p, i) =>
        {
            var request = pipeline.World.Find(p.Prompt)!;
            var (a, b) = (Oracle.Classify(request, p.Chosen), Oracle.Classify(request, p.Rejected));
            bool chosenIsBetter = Oracle.Quality(request.Kind, a) > Oracle.Quality(request.Kind, b);
            bool modelPrefersChosen = chosen[i] > rejected[i];
            return (Better: chosenIsBetter ? a : b, Worse: chosenIsBetter ? b : a, AgreesWithLabel: modelPrefersChosen, AgreesWithTruth: modelPrefersChosen == chosenIsBetter);
        }).ToList();
        var byPair = rows.GroupBy(r => (r.Better, r.Worse)).OrderByDescending(g => g.Count())
            .Select(g => new StylePairAccuracy(g.Key.Better, g.Key.Worse, g.Count(), g.Average(r => r.AgreesWithTruth ? 1.0 : 0))).ToList();
        var result = new RewardModelResult(rows.Average(r => r.AgreesWithLabel ? 1.0 : 0), rows.Count, rows.Average(r => r.AgreesWithTruth ? 1.0 : 0), byPair);
        output.WriteLine($"reward model: {result.HeldOutAccuracy:P1} of {result.HeldOutPairs} held-out pairs agree with the oracle's labels ({result.AccuracyVsTruth:P1} with its noise-free preference)");
        return result;
    }

    PpoResult Ppo()
    {
        var rows = MetricsWriter.ReadJsonl(pipeline.At("ppo", MetricsWriter.JsonlFileName));
        var evals = rows.Where(r => r.Values.ContainsKey("eval_reward_mean")).ToList();
        var options = YamlConfig.Load<Training.Ppo.PpoOptions>(pipeline.At("ppo", "ppo_options.yaml"));
        int window = Math.Max(1, rows.Count / 4);
        double Mean(IEnumerable<MetricsRow> part, string key) => part.Average(r => r.Values[key]);
        return new PpoResult(rows.Count, window, Mean(rows.Take(window), "reward_mean"), Mean(rows.TakeLast(window), "reward_mean"),
            evals.FirstOrDefault()?.Values["eval_reward_mean"], evals.LastOrDefault()?.Values["eval_reward_mean"],
            Mean(rows.TakeLast(window), "kl"), options.TargetKl ?? double.NaN, rows[0].Values["beta"], rows[^1].Values["beta"]);
    }

    /// <summary>One comparison per topic (the first of each), so the report shows every kind of request.</summary>
    static IReadOnlyList<SampleRow> Samples(IReadOnlyList<Request> requests, IReadOnlyList<Comparison> comparisons) =>
        requests.Select((r, i) => (Request: r, Comparison: comparisons[i]))
            .GroupBy(p => p.Request.Topic.Name).Select(g => g.First())
            .Select(p => new SampleRow(p.Request.Topic.Name, p.Request.HumanTurn,
                p.Comparison.ResponseA, Oracle.Classify(p.Request, p.Comparison.ResponseA),
                p.Comparison.ResponseB, Oracle.Classify(p.Request, p.Comparison.ResponseB)))
            .ToList();
}
