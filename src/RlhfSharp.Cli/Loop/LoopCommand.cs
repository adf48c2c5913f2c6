using System.CommandLine;
using RlhfSharp.Annotation;
using RlhfSharp.Cli.Commands;

namespace RlhfSharp.Cli.Loop;

/// <summary>`rlhf loop`: rounds of human feedback in one run folder, judged by people or automated judges.</summary>
internal static class LoopCommand
{
    static readonly Option<string> Out = new("--out") { Description = "the loop's run folder (settings, team links and one folder per round)", Required = true };
    static readonly Option<int> Rounds = new("--rounds") { Description = "run rounds up to this one (a finished run continues with more)", DefaultValueFactory = _ => 1 };
    static readonly Option<string?> Policy = new("--policy") { Description = "round 0's policy (an SFT model folder)" };
    static readonly Option<string?> PreviousPolicy = new("--previous-policy")
    {
        Description = "the policy --policy was trained from (e.g. the SFT model of a first PPO run): round 1 compares them; default: two samples of --policy",
    };
    static readonly Option<string?> RewardModel = new("--reward-model") { Description = "round 0's reward model folder; each round continues training it" };
    static readonly Option<string?> Preferences = new("--preferences") { Description = "the preference pairs round 0's reward model was trained on (HH, rm-static, chat or Parquet)" };
    static readonly Option<string?> EvalPreferences = new("--eval-preferences") { Description = "held-out preference pairs for the reward model's accuracy (default: a held-out share)" };
    static readonly Option<string?> Prompts = new("--prompts") { Description = "training prompts: each round's comparisons take fresh ones; the policy trains on all" };
    static readonly Option<string?> EvalPrompts = new("--eval-prompts") { Description = "held-out prompts of each round's evaluation against the previous round's policy" };
    static readonly Option<string> Method = new("--method") { Description = "how each round trains the policy", DefaultValueFactory = _ => "ppo" };
    static readonly Option<string?> RewardArgs = new("--reward-args") { Description = "extra arguments of each round's `rlhf reward`, e.g. \"--config rm.yaml --max-steps 200\"" };
    static readonly Option<string?> TrainArgs = new("--train-args") { Description = "extra arguments of each round's `rlhf ppo|grpo|dpo`, e.g. \"--config ppo.yaml\"" };
    static readonly Option<int> Comparisons = new("--comparisons") { Description = "comparisons judged per round to become preference pairs", DefaultValueFactory = _ => 100 };
    static readonly Option<int> EvalComparisons = new("--eval-comparisons") { Description = "comparisons of each round's evaluation (new policy against the previous)", DefaultValueFactory = _ => 50 };
    static readonly Option<int?> PerItem = new("--per-item") { Description = "distinct judges per item (default: 1 with people, every automated judge otherwise)" };
    static readonly Option<string> PairWith = new("--pair-with")
    {
        Description = "what the current policy's answers are compared with in each round's collection: the previous policy's, or a second sample of its own",
        DefaultValueFactory = _ => "previous",
    };
    static readonly Option<double?> CollectTemperature = new("--collect-temperature") { Description = "sampling temperature of the collection's answers (default: --temperature)" };
    static readonly Option<int> MaxNewTokens = new("--max-new-tokens") { Description = "tokens per compared answer", DefaultValueFactory = _ => 128 };
    static readonly Option<double> Temperature = new("--temperature") { Description = "sampling temperature of the compared answers", DefaultValueFactory = _ => 0.7 };
    static readonly Option<int> Seed = new("--seed") { Description = "seed of the prompt order, the sampling and every training stage", DefaultValueFactory = _ => 42 };
    static readonly Option<string?> Annotators = new("--annotators") { Description = "people who judge, comma-separated: each gets a personal link that stays valid every round" };
    static readonly Option<string[]> JudgeRewardModels = new("--judge-reward-model")
    {
        Description = "an automated judge: a reward model folder that judges every study through the HTTP API (repeatable); without one, people judge",
        AllowMultipleArgumentsPerToken = false,
    };
    static readonly Option<double> TieMargin = new("--tie-margin") { Description = "an automated judge's score differences within this are ties", DefaultValueFactory = _ => 0.0 };
    static readonly Option<string> Host = new("--host") { Description = "address the studies listen on while people judge", DefaultValueFactory = _ => "127.0.0.1" };
    static readonly Option<int> Port = new("--port") { Description = "port the studies listen on while people judge", DefaultValueFactory = _ => 5000 };
    static readonly Option<int> LeaseMinutes = new("--lease-minutes") { Description = "minutes an opened, unjudged item stays with its judge", DefaultValueFactory = _ => 30 };

    public static Command Build()
    {
        Method.AcceptOnlyFromAmong("ppo", "grpo", "dpo");
        PairWith.AcceptOnlyFromAmong("previous", "self");
        var command = new Command("loop",
            "Rounds of human feedback: the current and previous policy answer fresh prompts, judges compare them in the annotation app, the " +
            "reward model continues on every judgment so far, the policy trains from the current one, and judges compare the new policy with it. " +
            "State lives in --out; rerunning the command resumes the round where it stopped.");
        foreach (var option in new Option[]
                 {
                     Out, Rounds, Policy, PreviousPolicy, RewardModel, Preferences, EvalPreferences, Prompts, EvalPrompts, Method, RewardArgs, TrainArgs, Comparisons,
                     EvalComparisons, PerItem, PairWith, MaxNewTokens, Temperature, CollectTemperature, Seed, Annotators, JudgeRewardModels, TieMargin, Host, Port, LeaseMinutes,
                 })
            command.Options.Add(option);
        command.SetAction((parsed, cancellation) => Run(parsed, cancellation));
        return command;
    }

    static async Task<int> Run(ParseResult parsed, CancellationToken cancellation)
    {
        string outDir = parsed.GetValue(Out)!;
        if (File.Exists(outDir)) throw new RlhfException($"{outDir}: --out is a file, not a folder");
        int rounds = parsed.GetValue(Rounds);
        if (rounds < 1) throw new RlhfException($"--rounds must be at least 1, got {rounds}");
        int leaseMinutes = parsed.GetValue(LeaseMinutes);
        if (leaseMinutes < 1) throw new RlhfException($"--lease-minutes must be at least 1, got {leaseMinutes}");
        var judgeModels = parsed.GetValue(JudgeRewardModels) ?? [];
        var people = (parsed.GetValue(Annotators) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (judgeModels.Length > 0 && people.Length > 0) throw new RlhfException("give --annotators (people judge) or --judge-reward-model (automated judges), not both");

        var settings = Settings(parsed, outDir, defaultPerItem: Math.Max(1, judgeModels.Length));
        var output = parsed.InvocationConfiguration.Output;
        int threads = parsed.GetValue(CliApp.Threads);
        CliApp.InitializeTorch(threads);
        var loaded = judgeModels.Select((given, i) => LoadJudge(parsed, given, i, judgeModels.Length)).ToList();
        try
        {
            LoopJudges judges = loaded.Count > 0
                ? new LoopJudges.Automated([.. loaded.Select(l => (IScreenJudge)new PairwiseScreenJudge(l.Judge))])
                : new LoopJudges.People(people, parsed.GetValue(Host)!, parsed.GetValue(Port));
            settings.Save(outDir);
            var run = new LoopRun(outDir, settings, judges, new InProcessCommands(settings.Seed, threads, output, parsed.InvocationConfiguration.Error), output)
            {
                Lease = TimeSpan.FromMinutes(leaseMinutes),
            };
            try
            {
                await run.RunAsync(rounds, cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                output.WriteLine($"stopped; the same command continues where this stopped (judgments and finished stages are kept in {outDir})");
                return 130;
            }
            output.WriteLine(File.ReadAllText(Path.Combine(outDir, LoopRun.RoundsMarkdown)));
            output.WriteLine($"rounds: {Path.GetFullPath(Path.Combine(outDir, LoopRun.RoundsMarkdown))}");
            return 0;
        }
        finally
        {
            foreach (var l in loaded) l.Dispose();
        }
    }

    /// <summary>
    /// The run's settings: from the flags on the first run; on a rerun from loop.json, where a flag given with another value is
    /// refused in one line (the rounds already run were made with the stored ones).
    /// </summary>
    static LoopSettings Settings(ParseResult parsed, string outDir, int defaultPerItem)
    {
        var stored = LoopSettings.Load(outDir);
        if (stored is null && Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new RlhfException($"{outDir}: folder is not empty and holds no loop run; choose a new --out");
        string Given(Option<string?> option, Func<LoopSettings, string> storedValue) =>
            parsed.GetValue(option) ?? (stored is not null ? storedValue(stored) : throw new RlhfException($"{option.Name} is required to start a loop run"));
        T Pick<T>(Option<T> option, Func<LoopSettings, T> storedValue) =>
            stored is not null && parsed.GetResult(option) is null ? storedValue(stored) : parsed.GetValue(option)!;

        var settings = new LoopSettings
        {
            Policy = Given(Policy, s => s.Policy), PreviousPolicy = parsed.GetValue(PreviousPolicy) ?? stored?.PreviousPolicy, RewardModel = Given(RewardModel, s => s.RewardModel), Preferences = Given(Preferences, s => s.Preferences),
            EvalPreferences = parsed.GetValue(EvalPreferences) ?? stored?.EvalPreferences,
            Prompts = Given(Prompts, s => s.Prompts), EvalPrompts = Given(EvalPrompts, s => s.EvalPrompts),
            Method = Pick(Method, s => s.Method.ToString()).ParseEnum<LoopMethod>(),
            RewardArgs = parsed.GetValue(RewardArgs) is { } r ? Split(r) : stored?.RewardArgs ?? [],
            TrainArgs = parsed.GetValue(TrainArgs) is { } t ? Split(t) : stored?.TrainArgs ?? [],
            Comparisons = Pick(Comparisons, s => s.Comparisons), EvalComparisons = Pick(EvalComparisons, s => s.EvalComparisons),
            PerItem = parsed.GetValue(PerItem) ?? stored?.PerItem ?? defaultPerItem,
            PairWith = Pick(PairWith, s => s.PairWith.ToString()).ParseEnum<LoopPairing>(),
            MaxNewTokens = Pick(MaxNewTokens, s => s.MaxNewTokens), Temperature = Pick(Temperature, s => s.Temperature),
            CollectTemperature = parsed.GetValue(CollectTemperature) ?? stored?.CollectTemperature, Seed = Pick(Seed, s => s.Seed),
        };
        settings.Validate();
        if (stored is not null && settings.DifferencesFrom(stored) is { Count: > 0 } changed)
            throw new RlhfException($"{Path.Combine(outDir, LoopSettings.FileName)}: this run was made with other settings: {string.Join("; ", changed)}; " +
                "rerun with the stored ones (or none) or choose a new --out");
        foreach (var (path, option) in new[] { (settings.Policy, Policy), (settings.PreviousPolicy, PreviousPolicy), (settings.RewardModel, RewardModel) })
            if (path is not null && !Directory.Exists(path)) throw new RlhfException($"{path}: no such folder ({option.Name})");
        foreach (var (path, option) in new[] { (settings.Preferences, Preferences), (settings.Prompts, Prompts), (settings.EvalPrompts, EvalPrompts) })
            if (!File.Exists(path) && !Directory.Exists(path)) throw new RlhfException($"{path}: no such file ({option.Name})");
        return settings;
    }

    static T ParseEnum<T>(this string name) where T : struct, Enum => Enum.Parse<T>(name, ignoreCase: true);

    static string[] Split(string args) => args.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A reward model as an automated judge, named so several judges of one run stay apart.</summary>
    static LoadedRewardJudge LoadJudge(ParseResult parsed, string given, int index, int count)
    {
        var source = ModelSources.Resolve(parsed, JudgeRewardModels.Name, given);
        string name = $"reward-model:{ModelSources.Name(given, source)}" + (count > 1 ? $"-{index + 1}" : "");
        return RewardJudgeFlags.Load(source, name, parsed.GetValue(TieMargin));
    }
}
