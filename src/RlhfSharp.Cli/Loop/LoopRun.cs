using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Data;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.IO;

namespace RlhfSharp.Cli.Loop;

/// <summary>
/// Rounds of human feedback in one run folder. Round k: the current policy (k-1) and the one before it (k-2; in round 1 a
/// second sample of the same policy) answer fresh training prompts; judges compare the answers in an annotation study; the
/// judgments become preference pairs; the reward model continues training on every pair so far; the policy trains from the
/// current one; and a second study judges the new policy against the current one on held-out prompts. Every step is an
/// `rlhf` command run in this process and printed, so the loop is also its own recipe.
/// </summary>
internal sealed class LoopRun(string directory, LoopSettings settings, LoopJudges judges, InProcessCommands commands, TextWriter output)
{
    public const string RoundsMarkdown = "rounds.md";

    /// <summary>How long an opened item stays with a person before it goes back to the pool.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(30);

    public string RoundDirectory(int round) => Path.Combine(directory, $"round-{round}");
    /// <summary>The policy after <paramref name="round"/>: the run's starting policy before its first round, the one it came from before that.</summary>
    public string PolicyOf(int round) =>
        round >= settings.FirstRound ? Path.Combine(RoundDirectory(round), $"policy-{round}")
        : round == settings.FirstRound - 1 ? settings.Policy
        : settings.PreviousPolicy ?? settings.Policy;
    public string RewardModelOf(int round) => round >= settings.FirstRound ? Path.Combine(RoundDirectory(round), $"rm-{round}") : settings.RewardModel;
    public string PreferencesOf(int round) => round >= settings.FirstRound ? Path.Combine(RoundDirectory(round), "preferences-all.jsonl") : settings.Preferences;

    public async Task<IReadOnlyList<RoundRecord>> RunAsync(int rounds, CancellationToken cancellation)
    {
        var team = LoopTeam.Settle(directory, judges.Names);
        var records = new List<RoundRecord>();
        for (int round = settings.FirstRound; round <= rounds; round++)
        {
            records.Add(await RunRound(round, team, cancellation));
            WriteRoundsTable(records);
        }
        return records;
    }

    async Task<RoundRecord> RunRound(int round, IReadOnlyList<TeamMember> team, CancellationToken cancellation)
    {
        string roundDirectory = RoundDirectory(round);
        Directory.CreateDirectory(roundDirectory);
        var record = RoundRecord.Load(roundDirectory, round);
        foreach (var stage in Enum.GetValues<RoundStage>())
        {
            if (record.IsDone(stage)) continue;
            output.WriteLine($"round {round}: {Title(stage)}");
            var watch = Stopwatch.StartNew();
            record = stage switch
            {
                RoundStage.Sample => Sample(round, record),
                RoundStage.Collect => await Collect(round, record, team, cancellation),
                RoundStage.Reward => TrainRewardModel(round, record),
                RoundStage.Train => TrainPolicy(round, record),
                RoundStage.Evaluate => await Evaluate(round, record, team, cancellation),
                _ => throw new ArgumentOutOfRangeException(nameof(stage)),
            };
            record = record with { StageSeconds = new(record.StageSeconds) { [stage] = watch.Elapsed.TotalSeconds } };
            record.Save(roundDirectory);
        }
        return record;
    }

    static string Title(RoundStage stage) => stage switch
    {
        RoundStage.Sample => "the current policy answers fresh prompts, beside the previous policy or a second sample of its own",
        RoundStage.Collect => "judges compare the answers; their judgments become preference pairs",
        RoundStage.Reward => "the reward model continues on every preference pair so far",
        RoundStage.Train => "the policy trains from the current one",
        RoundStage.Evaluate => "judges compare the new policy with the current one on held-out prompts",
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    string At(int round, params string[] parts) => Path.Combine([RoundDirectory(round), .. parts]);

    /// <summary>
    /// The round's slice of a seeded permutation of the training prompts (fresh until they run out), answered by the previous
    /// policy (A) and the current one (B). In the first round without a previous policy both are the starting policy.
    /// </summary>
    RoundRecord Sample(int round, RoundRecord record)
    {
        var prompts = DatasetReader.ReadPrompts(settings.Prompts, ReadOptions.ForModel(settings.Policy, skipBadRows: false)).Examples;
        int[] order = Enumerable.Range(0, prompts.Count).ToArray();
        new Random(settings.Seed).Shuffle(order);
        int start = (round - settings.FirstRound) * settings.Comparisons;
        if (start + settings.Comparisons > prompts.Count)
            output.WriteLine($"note: {settings.Prompts} holds {prompts.Count} prompts, fewer than {round - settings.FirstRound + 1} rounds x {settings.Comparisons}; round {round} reuses some");
        var fresh = Enumerable.Range(start, Math.Min(settings.Comparisons, prompts.Count)).Select(i => prompts[order[i % prompts.Count]]);
        AtomicFile.WriteJsonLines(At(round, "prompts.jsonl"), fresh.Select(p => new { prompt = p }));

        string current = PolicyOf(round - 1), other = settings.PairWith == LoopPairing.Self ? current : PolicyOf(round - 2);
        // Other sampling streams for the two sides: answers of two close policies drawn with the same streams are often the
        // same text, a tie that teaches the reward model nothing.
        commands.Run([.. Prepare(other, current, At(round, "prompts.jsonl"), settings.Comparisons, At(round, "comparisons.jsonl"),
            settings.CollectTemperature ?? settings.Temperature), "--seed-b", $"{Training.Seeds.Derive(settings.Seed, round)}"]);
        return record;
    }

    string[] Prepare(string modelA, string modelB, string prompts, int count, string outFile, double temperature) =>
        ["eval", "pairwise", "prepare", "--model-a", modelA, "--model-b", modelB, "--prompts", prompts, "--n", $"{count}",
            "--max-new-tokens", $"{settings.MaxNewTokens}", "--temperature", InProcessCommands.Invariant(temperature), "--out", outFile];

    async Task<RoundRecord> Collect(int round, RoundRecord record, IReadOnlyList<TeamMember> team, CancellationToken cancellation)
    {
        var comparisons = ComparisonFile.Read(At(round, "comparisons.jsonl"));
        var report = await Study(At(round, "collect.db")).RunAsync(comparisons, judges, team, cancellation);
        commands.RunUnseeded("annotate", "export", "--db", At(round, "collect.db"), "--out", At(round, "preferences.jsonl"));

        // Every pair so far in one layout (rm-static), the earlier ones first: the reward model reads one file.
        var readOptions = ReadOptions.ForModel(settings.RewardModel, skipBadRows: false);
        var earlier = DatasetReader.ReadPreferences(PreferencesOf(round - 1), readOptions).Examples;
        var fresh = File.ReadAllText(At(round, "preferences.jsonl")).Length == 0 ? []
            : DatasetReader.ReadPreferences(At(round, "preferences.jsonl"), readOptions).Examples;
        AtomicFile.WriteJsonLines(PreferencesOf(round), earlier.Concat(fresh).Select(p => new { prompt = p.Prompt, chosen = p.Chosen, rejected = p.Rejected }));
        output.WriteLine($"round {round}: {report.Judgments.Total} judgments of {report.Items.Total} comparisons gave {fresh.Count} new preference pairs " +
            $"({earlier.Count + fresh.Count} in all); agreement {Agreement(StudyFigures.Of(report))}");
        return record with { Collected = StudyFigures.Of(report), NewPairs = fresh.Count, AllPairs = earlier.Count + fresh.Count };
    }

    RoundRecord TrainRewardModel(int round, RoundRecord record)
    {
        string outDir = RewardModelOf(round);
        commands.Run([
            "reward", "--model", RewardModelOf(round - 1), "--data", PreferencesOf(round),
            .. settings.EvalPreferences is { } eval ? new[] { "--eval-data", eval } : [], "--out", outDir, .. ResumeIfStarted(outDir),
            .. settings.RewardArgs,
        ]);
        return record with { RewardAccuracy = LastMetric(outDir, "eval_accuracy") };
    }

    RoundRecord TrainPolicy(int round, RoundRecord record)
    {
        string from = PolicyOf(round - 1), outDir = PolicyOf(round);
        string[] method = settings.Method switch
        {
            LoopMethod.Ppo => ["ppo", "--policy", from, "--reward-model", RewardModelOf(round), "--prompts", settings.Prompts, "--eval-prompts", settings.EvalPrompts],
            LoopMethod.Grpo => ["grpo", "--policy", from, "--reward", RewardModelOf(round), "--prompts", settings.Prompts, "--eval-prompts", settings.EvalPrompts],
            // DPO learns from the round's own judgments of its own policy's answers: iterative, on-policy preference data.
            LoopMethod.Dpo => ["dpo", "--model", from, "--data", At(round, "preferences.jsonl")],
            _ => throw new ArgumentOutOfRangeException(nameof(settings.Method)),
        };
        commands.Run([.. method, "--out", outDir, .. ResumeIfStarted(outDir), .. settings.TrainArgs]);
        return record;
    }

    async Task<RoundRecord> Evaluate(int round, RoundRecord record, IReadOnlyList<TeamMember> team, CancellationToken cancellation)
    {
        string evalDirectory = At(round, "eval");
        Directory.CreateDirectory(evalDirectory);
        string comparisonsFile = Path.Combine(evalDirectory, "comparisons.jsonl");
        if (!File.Exists(comparisonsFile))
            commands.Run(Prepare(PolicyOf(round - 1), PolicyOf(round), settings.EvalPrompts, settings.EvalComparisons, comparisonsFile, settings.Temperature));
        string db = Path.Combine(evalDirectory, "annotations.db");
        var report = await Study(db).RunAsync(ComparisonFile.Read(comparisonsFile), judges, team, cancellation);
        commands.RunUnseeded("eval", "pairwise", "report", "--db", db, "--out", evalDirectory);
        var figures = StudyFigures.Of(report);
        output.WriteLine($"round {round}: {figures.ModelB} against {figures.ModelA} on {figures.Items} held-out prompts: " +
            $"wins {figures.BWins}, ties {figures.Ties}, loses {figures.AWins} (sign test p = {figures.SignTestP:G3})");
        return record with { Evaluation = figures };
    }

    JudgingStudy Study(string db) => new(db, settings.PerItem, settings.Seed, Lease, output);

    /// <summary>A training folder a stopped round left behind continues from its last checkpoint.</summary>
    static string[] ResumeIfStarted(string outDir) => Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() ? ["--resume"] : [];

    /// <summary>The last logged value of <paramref name="name"/> in a run's metrics.jsonl, or null when it logged none.</summary>
    static double? LastMetric(string runDirectory, string name)
    {
        string path = Path.Combine(runDirectory, Training.Metrics.MetricsWriter.JsonlFileName);
        return File.Exists(path)
            ? Training.Metrics.MetricsWriter.ReadJsonl(path).LastOrDefault(r => r.Values.ContainsKey(name))?.Values[name]
            : null;
    }

    public static string Agreement(StudyFigures? figures) => figures?.ObservedAgreement is { } observed
        ? string.Create(CultureInfo.InvariantCulture, $"{100 * observed:F0}%") + (figures.Kappa is { } kappa ? string.Create(CultureInfo.InvariantCulture, $" (kappa {kappa:F2})") : "")
        : "n/a (one judge per item)";

    void WriteRoundsTable(IReadOnlyList<RoundRecord> records)
    {
        AtomicFile.WriteAllText(Path.Combine(directory, RoundsMarkdown), RoundsTable.Markdown(records));
        AtomicFile.WriteAllText(Path.Combine(directory, "rounds.json"), JsonSerializer.Serialize(records, RoundRecord.Json) + "\n");
    }
}
