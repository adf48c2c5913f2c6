namespace RlhfSharp.Cli.Demo;

/// <summary>The demo's stages in order; each writes its own folder under the run folder.</summary>
internal enum DemoStage
{
    Data,
    Pretrain,
    Sft,
    Reward,
    Ppo,
    Evaluate,
    Report,
}

internal static class DemoStages
{
    public static IReadOnlyList<DemoStage> All { get; } = Enum.GetValues<DemoStage>();

    /// <summary>The name used by --from and in the report.</summary>
    public static string Name(this DemoStage stage) => stage.ToString().ToLowerInvariant();

    public static string Title(this DemoStage stage) => stage switch
    {
        DemoStage.Data => "world, data and tokenizer",
        DemoStage.Pretrain => "pretraining the base model from scratch",
        DemoStage.Sft => "supervised fine-tuning on demonstrations",
        DemoStage.Reward => "reward model on oracle-labelled preferences",
        DemoStage.Ppo => "PPO against the reward model",
        DemoStage.Evaluate => "evaluation: pairwise oracle judgments and toxicity",
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
        DemoStage.Evaluate => ["eval"],
        DemoStage.Report => [],
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    public static DemoStage Parse(string name) =>
        All.Where(s => s.Name() == name.ToLowerInvariant()).Cast<DemoStage?>().FirstOrDefault()
            ?? throw new RlhfException($"--from: unknown stage '{name}'; stages are {string.Join(", ", All.Select(s => s.Name()))}");
}
