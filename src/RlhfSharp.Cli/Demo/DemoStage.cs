namespace RlhfSharp.Cli.Demo;

/// <summary>
/// The demo's stages in order; each writes its own folder under the run folder. The method stages (<see cref="DemoStages.Methods"/>)
/// each train a policy from the same SFT model; a run holds those picked by --methods.
/// </summary>
internal enum DemoStage
{
    Data,
    Pretrain,
    Sft,
    Reward,
    Ppo,
    Dpo,
    Grpo,
    Rounds,
    Evaluate,
    Report,
}

internal static class DemoStages
{
    public static IReadOnlyList<DemoStage> All { get; } = Enum.GetValues<DemoStage>();

    /// <summary>The training methods the demo compares, in the order they run and are reported.</summary>
    public static IReadOnlyList<DemoStage> Methods { get; } = [DemoStage.Ppo, DemoStage.Dpo, DemoStage.Grpo];

    /// <summary>The methods a run compares when --methods is not given: all of them fit the full demo's 10 minutes on 2 cores.</summary>
    public static IReadOnlyList<DemoStage> DefaultMethods => Methods;

    public static bool IsMethod(this DemoStage stage) => Methods.Contains(stage);

    /// <summary>The name used by --from, --methods and in the report.</summary>
    public static string Name(this DemoStage stage) => stage.ToString().ToLowerInvariant();

    /// <summary>The method's name in tables ("PPO").</summary>
    public static string Label(this DemoStage method) => method.ToString().ToUpperInvariant();

    public static string Title(this DemoStage stage) => stage switch
    {
        DemoStage.Data => "world, data and tokenizer",
        DemoStage.Pretrain => "pretraining the base model from scratch",
        DemoStage.Sft => "supervised fine-tuning on demonstrations",
        DemoStage.Reward => "reward model on oracle-labelled preferences",
        DemoStage.Ppo => "PPO against the reward model",
        DemoStage.Dpo => "DPO on the preference pairs (no reward model)",
        DemoStage.Grpo => "GRPO against the reward model and the world's facts",
        DemoStage.Rounds => "later rounds: simulated annotators judge in the annotation app, the reward model and PPO continue",
        DemoStage.Evaluate => "evaluation: pairwise oracle judgments, reward-model scores, KL to SFT and toxicity",
        DemoStage.Report => "report",
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    /// <summary>The stage folders (relative to the run folder) a rerun of <paramref name="stage"/> replaces.</summary>
    public static IReadOnlyList<string> Outputs(this DemoStage stage) => stage switch
    {
        DemoStage.Data => ["data", "tokenizer", "init"],
        DemoStage.Pretrain => ["base"],
        DemoStage.Sft => ["sft"],
        DemoStage.Reward => ["rm"],
        DemoStage.Ppo => ["ppo"],
        DemoStage.Dpo => ["dpo"],
        DemoStage.Grpo => ["grpo"],
        DemoStage.Rounds => ["loop"],
        DemoStage.Evaluate => ["eval"],
        DemoStage.Report => [],
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    public static DemoStage Parse(string name) =>
        All.Where(s => s.Name() == name.ToLowerInvariant()).Cast<DemoStage?>().FirstOrDefault()
            ?? throw new RlhfException($"--from: unknown stage '{name}'; stages are {string.Join(", ", All.Select(s => s.Name()))}");

    /// <summary>--methods: a comma-separated list of method names, returned in the order the methods run.</summary>
    public static IReadOnlyList<DemoStage> ParseMethods(string list)
    {
        string known = string.Join(", ", Methods.Select(m => m.Name()));
        var names = list.Split(',', StringSplitOptions.TrimEntries);
        if (names.All(n => n.Length == 0)) throw new RlhfException($"--methods: name at least one method; methods are {known}");
        var picked = new List<DemoStage>();
        foreach (string name in names)
        {
            if (name.Length == 0) throw new RlhfException($"--methods: empty name in '{list}'; separate methods with single commas");
            var method = Methods.Where(m => m.Name() == name.ToLowerInvariant()).Cast<DemoStage?>().FirstOrDefault()
                ?? throw new RlhfException($"--methods: unknown method '{name}'; methods are {known}");
            if (picked.Contains(method)) throw new RlhfException($"--methods: '{name}' is named twice");
            picked.Add(method);
        }
        return [.. Methods.Where(picked.Contains)];
    }
}

/// <summary>Which stages a run executes: the shared chain (data to reward, evaluate, report) and the picked methods.</summary>
internal static class DemoPlan
{
    /// <summary>The stages of a run comparing <paramref name="methods"/> over <paramref name="rounds"/> rounds, in order.</summary>
    public static IReadOnlyList<DemoStage> StagesOf(IReadOnlyList<DemoStage> methods, int rounds = 1) =>
        [.. DemoStages.All.Where(s => s.IsMethod() ? methods.Contains(s) : s != DemoStage.Rounds || rounds > 1)];

    /// <summary>
    /// The stages to run, in order. A shared stage reruns with every shared stage after it; a method stage reruns when
    /// asked for by <paramref name="from"/>, when it has not finished, or when the stages it starts from rerun. Other methods'
    /// finished stages are reused (each starts from the same SFT model and reward model), and the evaluation and report rerun
    /// whenever any method does. Without <paramref name="from"/> a run continues where it stopped.
    /// </summary>
    public static IReadOnlyList<DemoStage> ToRun(IReadOnlyList<DemoStage> methods, DemoStage? from, Func<DemoStage, bool> isDone, string runDirectory,
        int rounds = 1)
    {
        var stages = StagesOf(methods, rounds);
        var shared = stages.Where(s => !s.IsMethod()).ToList();
        if (from is { } asked && asked.IsMethod() && !methods.Contains(asked))
            throw new RlhfException($"--from {asked.Name()}: not among the methods of this run ({string.Join(", ", methods.Select(m => m.Name()))}); add it to --methods");
        // The first shared stage to rerun: the one asked for, or the first unfinished one (the report, when all have finished).
        var sharedStart = from is { } f && !f.IsMethod() ? f : shared.FirstOrDefault(s => !isDone(s), DemoStage.Report);
        bool Runs(DemoStage method) => method == from || !isDone(method) || sharedStart <= DemoStage.Reward;
        // Later rounds continue from PPO's policy: a rerun PPO reruns them.
        if (stages.Contains(DemoStage.Rounds) && Runs(DemoStage.Ppo) && sharedStart > DemoStage.Rounds) sharedStart = DemoStage.Rounds;
        if (stages.Any(s => s.IsMethod() && Runs(s)) && sharedStart > DemoStage.Evaluate) sharedStart = DemoStage.Evaluate;

        if (from is { } start && shared.FirstOrDefault(s => s < start && !isDone(s), start) is var missing && missing < start)
            throw new RlhfException($"--from {start.Name()}: stage '{missing.Name()}' has not finished in {runDirectory}; run from there");
        return [.. stages.Where(s => s.IsMethod() ? Runs(s) : s >= sharedStart)];
    }
}
