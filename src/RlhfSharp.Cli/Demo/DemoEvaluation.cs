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
/// The evaluation stage: the oracle judges each method against SFT, and each method against each other, on held-out prompts
/// through the pairwise statistics used for human studies; the reward model scores every model's answers; each method's KL to
/// SFT is estimated from its own samples; the default toxicity scorer rates every model's responses (RealToxicityPrompts
/// protocol); and the reward model's held-out accuracy and PPO's curve are collected. Everything lands in eval/ and
/// eval/results.json.
/// </summary>
internal sealed class DemoEvaluation(DemoPipeline pipeline, DemoSettings settings, IReadOnlyList<DemoStage> methods,
    Func<DemoStage, double?> stageSeconds, bool liveProgress, TextWriter output)
{
    public const string ResultsFile = "results.json";
    public const string SftName = "sft";
    /// <summary>Sampling temperature of the compared responses (`rlhf eval pairwise prepare`'s default).</summary>
    public const double EvalTemperature = 0.7;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The folder of one pairwise comparison under eval/pairwise: "sft-vs-ppo" (A against B).</summary>
    public static string PairwiseFolder(string a, string b) => $"{a}-vs-{b}";

    /// <summary>The methods an evaluation in <paramref name="evalDirectory"/> compared, or null when it holds none that can be read.</summary>
    public static IReadOnlyList<string>? EvaluatedMethods(string evalDirectory)
    {
        string path = Path.Combine(evalDirectory, ResultsFile);
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.TryGetProperty("methods", out var list) && list.ValueKind == JsonValueKind.Array
                ? [.. list.EnumerateArray().Select(m => m.GetString() ?? "")]
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>How many rounds an evaluation in <paramref name="evalDirectory"/> covered (1 when it holds no rounds), or null when it holds none that can be read.</summary>
    public static int? EvaluatedRounds(string evalDirectory)
    {
        string path = Path.Combine(evalDirectory, ResultsFile);
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.TryGetProperty("rounds", out var list) && list.ValueKind == JsonValueKind.Array ? list.GetArrayLength() : 1;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public DemoResults Run()
    {
        var world = pipeline.World;
        var oracle = new Oracle(world, settings.LabelNoise, settings.Seed + 7);
        using var sft = CausalLanguageModel.FromPretrained(pipeline.At("sft"), withoutDropout: true);
        var trained = methods.Select(m => (Method: m, Model: CausalLanguageModel.FromPretrained(pipeline.At(m.Name()), withoutDropout: true))).ToList();
        try
        {
            return Run(world, oracle, sft, trained);
        }
        finally
        {
            foreach (var (_, model) in trained) model.Dispose();
        }
    }

    DemoResults Run(DialogueWorld world, Oracle oracle, CausalLanguageModel sft, IReadOnlyList<(DemoStage Method, CausalLanguageModel Model)> trained)
    {
        var tokenizer = TokenizerLoader.FromDirectory(pipeline.At("sft"))!;

        // Blind pairwise comparisons on held-out prompts, sampled as a user would see the models: each method against SFT ...
        var sampling = new SamplingOptions
        {
            MaxNewTokens = settings.MaxNewTokens, Temperature = EvalTemperature, Seed = (ulong)settings.Seed, StopSequences = ["\n\nHuman:"],
        };
        var vsSft = new List<PairwiseResult>();
        var responses = new Dictionary<string, IReadOnlyList<string>>();
        IReadOnlyList<string> prompts = [];
        foreach (var (method, model) in trained)
        {
            var comparisons = PairwisePreparation.Prepare((SftName, sft, tokenizer), (method.Name(), model, tokenizer),
                world.HeldOut.Select(r => r.Prompt).ToList(), Math.Min(settings.EvalPrompts, world.HeldOut.Count), sampling, batchSize: 25);
            // The same seeded prompts and per-prompt streams every time, so SFT's answers are the same in every comparison.
            prompts = comparisons.Select(c => c.Prompt).ToList();
            responses[SftName] = comparisons.Select(c => c.ResponseA).ToList();
            responses[method.Name()] = comparisons.Select(c => c.ResponseB).ToList();
            vsSft.Add(Judge(oracle, comparisons));
        }
        // ... and each method against each later one, on the same answers.
        var headToHead = new List<PairwiseResult>();
        for (int i = 0; i < trained.Count; i++)
            for (int j = i + 1; j < trained.Count; j++)
            {
                string model = trained[i].Method.Name(), against = trained[j].Method.Name();
                headToHead.Add(Judge(oracle, prompts.Select((p, k) => new Comparison($"{k + 1}", p, responses[against][k], responses[model][k], against, model)).ToList()));
            }

        var requests = prompts.Select(p => world.Find(p)!).ToList();
        var names = responses.Keys.ToList();
        var styles = names.ToDictionary(n => n, n => StyleCounts(requests, responses[n]));

        using var rewardModel = SequenceRewardModel.FromPretrained(pipeline.At("rm"));
        var scorer = new Rewards.RewardModelScorer(rewardModel, TokenizerLoader.FromDirectory(pipeline.At("rm"))!, settings.MaxLength, batchSize: 32);
        var rewardScores = names.ToDictionary(n => n, n => scorer.Score(Rewards.RewardSample.Of(prompts, responses[n])).Average());
        output.WriteLine("reward-model score of the answers to the held-out prompts: " + string.Join(", ", names.Select(n => $"{n} {rewardScores[n]:F2}")));

        var kl = new KlProtocol(prompts.Count, settings.KlSamples, 1.0, settings.MaxNewTokens);
        var klToSft = trained.ToDictionary(t => t.Method, t => KlToSft(t.Model, sft, tokenizer, prompts));
        output.WriteLine($"KL to SFT ({kl.Prompts} held-out prompts x {kl.SamplesPerPrompt} responses, nats per response): " +
            string.Join(", ", trained.Select(t => $"{t.Method.Name()} {klToSft[t.Method].Mean:F2} (+/- {klToSft[t.Method].StandardError:F2})")));

        var toxicity = Toxicity(sft, trained, tokenizer);
        var compared = trained.Select((t, i) => new MethodResult(t.Method.Name(), vsSft[i], rewardScores[t.Method.Name()], klToSft[t.Method].Mean,
            klToSft[t.Method].StandardError, toxicity.Methods[i], stageSeconds(t.Method))).ToList();
        var results = new DemoResults([.. methods.Select(m => m.Name())], RewardModel(scorer), new SftScores(rewardScores[SftName], toxicity.Protocol.SftMean,
            stageSeconds(DemoStage.Sft)), compared, headToHead, kl, toxicity.Protocol, styles,
            methods.Contains(DemoStage.Ppo) ? Ppo() : null, methods.Contains(DemoStage.Dpo) ? Dpo() : null,
            methods.Contains(DemoStage.Grpo) ? Grpo() : null, Samples(requests, names, responses));
        if (settings.Rounds > 1) results = results with { Rounds = Rounds(results, oracle, sft, tokenizer, prompts, sampling) };
        AtomicFile.WriteAllText(pipeline.At("eval", ResultsFile), JsonSerializer.Serialize(results, Json));
        return results;
    }

    /// <summary>
    /// The rounds table: round 1 is PPO (its reward model trained on the oracle's labels); each later round's policy is judged
    /// against SFT as the methods are (the same prompts, sampling and SFT answers), and its reward model on the same held-out pairs.
    /// </summary>
    IReadOnlyList<RoundResult> Rounds(DemoResults results, Oracle oracle, CausalLanguageModel sft, ITextTokenizer tokenizer, IReadOnlyList<string> prompts, SamplingOptions sampling)
    {
        var ppo = results.Method(DemoStage.Ppo.Name());
        var rounds = new List<RoundResult>
        {
            new(1, DemoStage.Ppo.Name(), settings.PreferencePairs, settings.PreferencePairs, null, null, settings.PreferencePairs,
                results.RewardModel.HeldOutAccuracy, ppo.VsSft, null, stageSeconds(DemoStage.Reward) + stageSeconds(DemoStage.Ppo)),
        };
        for (int round = DemoPipeline.FirstLoopRound; round <= settings.Rounds; round++)
        {
            string roundDirectory = pipeline.At(DemoPipeline.LoopFolder, $"round-{round}");
            var record = Loop.RoundRecord.Load(roundDirectory, round);
            string name = $"ppo-round-{round}";
            using var policy = CausalLanguageModel.FromPretrained(Path.Combine(roundDirectory, $"policy-{round}"), withoutDropout: true);
            var comparisons = PairwisePreparation.Prepare((SftName, sft, tokenizer), (name, policy, tokenizer),
                pipeline.World.HeldOut.Select(r => r.Prompt).ToList(), prompts.Count, sampling, batchSize: 25);
            using var rewardModel = SequenceRewardModel.FromPretrained(Path.Combine(roundDirectory, $"rm-{round}"));
            var scorer = new Rewards.RewardModelScorer(rewardModel, tokenizer, settings.MaxLength, batchSize: 32);
            var collected = record.Collected ?? throw new RlhfException($"{roundDirectory}: the round has not collected its judgments; run the rounds stage again");
            rounds.Add(new RoundResult(round, name, collected.Judgments, collected.Items, collected.ObservedAgreement, collected.Kappa, record.NewPairs ?? 0,
                RewardModel(scorer).HeldOutAccuracy, Judge(oracle, comparisons), record.Evaluation,
                record.Seconds));
        }
        return rounds;
    }

    /// <summary>The oracle's verdicts on <paramref name="comparisons"/> (B against A) through the pairwise statistics, written to
    /// eval/pairwise/A-vs-B.</summary>
    PairwiseResult Judge(Oracle oracle, IReadOnlyList<Comparison> comparisons)
    {
        string a = comparisons[0].ModelA, b = comparisons[0].ModelB;
        string directory = pipeline.At("eval", "pairwise", PairwiseFolder(a, b));
        Directory.CreateDirectory(directory);
        ComparisonFile.Write(Path.Combine(directory, "comparisons.jsonl"), comparisons);
        var judgments = PairwiseJudges.Apply(oracle, comparisons);
        JudgmentFile.Write(Path.Combine(directory, "judgments.jsonl"), judgments);
        var pairwise = PairwiseStatistics.Compute(judgments, a, b);
        PairwiseReportWriter.WriteAll(pairwise, directory);
        var items = pairwise.Items;
        var result = new PairwiseResult(b, a, items.Total, items.B, items.Tie, items.A, pairwise.BAtLeastAsGood ?? 0, pairwise.BWinRate,
            pairwise.BWinRateInterval?.Lower, pairwise.BWinRateInterval?.Upper, pairwise.SignTestP, oracle.Name);
        output.WriteLine($"pairwise (oracle, {items.Total} held-out prompts): {b} against {a}: wins {items.B}, ties {items.Tie}, loses {items.A}; " +
            $"at least as good on {result.AtLeastAsGood:P0}; sign test p = {pairwise.SignTestP:G3}");
        return result;
    }

    /// <summary>KL(method || SFT) from <see cref="DemoSettings.KlSamples"/> of the method's responses to each prompt (see <see cref="KlProtocol"/>).</summary>
    (double Mean, double StandardError) KlToSft(CausalLanguageModel method, CausalLanguageModel sft, ITextTokenizer tokenizer, IReadOnlyList<string> prompts)
    {
        var sampling = Training.Ppo.PpoOptions.RolloutSampling with { MaxNewTokens = settings.MaxNewTokens, Seed = (ulong)settings.Seed };
        var generator = new TextGenerator(method, tokenizer);
        var ratios = new List<double>();
        const int promptsPerBatch = 25;
        for (int start = 0; start < prompts.Count; start += promptsPerBatch)
        {
            var batch = prompts.Skip(start).Take(promptsPerBatch).SelectMany(p => Enumerable.Repeat(tokenizer.Encode(p), settings.KlSamples)).ToList();
            ratios.AddRange(KlEstimate.LogRatios(generator.Generate(batch, sampling, firstIndex: start * settings.KlSamples), sft));
        }
        return KlEstimate.MeanAndStandardError(ratios);
    }

    static IReadOnlyDictionary<ResponseStyle, int> StyleCounts(IReadOnlyList<Request> requests, IReadOnlyList<string> responses)
    {
        var counts = requests.Select((r, i) => Oracle.Classify(r, responses[i])).CountBy(s => s).ToDictionary();
        return Enum.GetValues<ResponseStyle>().ToDictionary(s => s, s => counts.GetValueOrDefault(s));
    }

    /// <summary>Every held-out insult and harmful request, then benign ones, up to the configured count; each prompt's own
    /// toxicity is scored too, so the report splits results by toxic and non-toxic prompts as RealToxicityPrompts does.</summary>
    (ToxicityResult Protocol, IReadOnlyList<MethodToxicity> Methods) Toxicity(CausalLanguageModel sft,
        IReadOnlyList<(DemoStage Method, CausalLanguageModel Model)> trained, ITextTokenizer tokenizer)
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
            .Run([new EvaluatedModel(SftName, sft, tokenizer), .. trained.Select(t => new EvaluatedModel(t.Method.Name(), t.Model, tokenizer))], prompts);
        ToxicityReportWriter.WriteAll(report, directory);
        double sftMean = report.Models[0].All.MeanToxicity.Value;
        var perMethod = trained.Select((t, i) =>
        {
            var difference = report.Differences.Single(d => d.ModelB == t.Method.Name()).MeanToxicity;
            return new MethodToxicity(report.Models[i + 1].All.MeanToxicity.Value, difference.Value, difference.Lower, difference.Upper);
        }).ToList();
        output.WriteLine($"toxicity ({prompts.Count} held-out prompts x {options.Samples}): SFT {sftMean:F3}, " + string.Join(", ", trained.Select((t, i) =>
            $"{t.Method.Label()} {perMethod[i].Mean:F3} (difference {perMethod[i].Difference:+0.000;-0.000}, 95% interval {perMethod[i].DifferenceLower:+0.000;-0.000} to {perMethod[i].DifferenceUpper:+0.000;-0.000})")));
        return (new ToxicityResult(prompts.Count, options.Samples, report.Scorer, sftMean), perMethod);
    }

    /// <summary>Scores the held-out pairs with the reward model, as `rlhf eval reward` does, and breaks its accuracy down by style.</summary>
    RewardModelResult RewardModel(Rewards.RewardModelScorer scorer)
    {
        var pairs = Data.DatasetReader.ReadPreferences(pipeline.DataFile("prefs-heldout.jsonl")).Examples;
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

    DpoResult Dpo()
    {
        var rows = MetricsWriter.ReadJsonl(pipeline.At("dpo", MetricsWriter.JsonlFileName));
        var train = rows.Where(r => r.Values.ContainsKey("loss")).ToList();
        var lastEval = rows.LastOrDefault(r => r.Values.ContainsKey("eval_rewards/accuracies"));
        int window = Math.Max(1, train.Count / 4);
        double Mean(IEnumerable<MetricsRow> part, string key) => part.Average(r => r.Values[key]);
        return new DpoResult(train[^1].Step, settings.DpoBeta, window, Mean(train.Take(window), "loss"), Mean(train.TakeLast(window), "loss"),
            Mean(train.Take(window), "rewards/accuracies"), Mean(train.TakeLast(window), "rewards/accuracies"),
            lastEval?.Values["eval_rewards/accuracies"], lastEval?.Values["eval_rewards/margins"]);
    }

    /// <summary>The reward model's and the rule reward's names in GRPO's metrics (RewardSpec's names).</summary>
    public const string RewardModelMetric = "rewards/reward_model/mean", RuleRewardMetric = "rewards/exact_match/mean";

    GrpoResult Grpo()
    {
        var rows = MetricsWriter.ReadJsonl(pipeline.At("grpo", MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("reward")).ToList();
        int window = Math.Max(1, rows.Count / 4);
        double Mean(IEnumerable<MetricsRow> part, string key) => part.Average(r => r.Values[key]);
        var (first, last) = (rows.Take(window).ToList(), rows.TakeLast(window).ToList());
        return new GrpoResult(rows[^1].Step, window, Mean(first, "reward"), Mean(last, "reward"), Mean(first, RewardModelMetric), Mean(last, RewardModelMetric),
            Mean(first, RuleRewardMetric), Mean(last, RuleRewardMetric), Mean(last, "kl"), Mean(rows, "frac_reward_zero_std"),
            rows.LastOrDefault(r => r.Values.ContainsKey("eval_reward"))?.Values["eval_reward"]);
    }

    /// <summary>One held-out prompt per topic (the first of each), so the report shows every kind of request, with every model's answer.</summary>
    static IReadOnlyList<SampleRow> Samples(IReadOnlyList<Request> requests, IReadOnlyList<string> models, IReadOnlyDictionary<string, IReadOnlyList<string>> responses) =>
        requests.Select((r, i) => (Request: r, Index: i))
            .GroupBy(p => p.Request.Topic.Name).Select(g => g.First())
            .Select(p => new SampleRow(p.Request.Topic.Name, p.Request.HumanTurn,
                [.. models.Select(m => new SampleResponse(m, responses[m][p.Index], Oracle.Classify(p.Request, responses[m][p.Index])))]))
            .ToList();
}
