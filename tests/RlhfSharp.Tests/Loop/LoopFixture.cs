using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Training.Ppo;

namespace RlhfSharp.Tests.Loop;

/// <summary>
/// A tiny world for `rlhf loop`: the tiny GPT-2 (real GPT-2 tokenizer) as round 0's policy, a reward model started from it, and
/// real HH-RLHF dialogues as prompts and as round 0's preference pairs; every stage sized to take seconds.
/// </summary>
internal static class LoopFixture
{
    static readonly Lazy<string> LazyRewardModel = new(() => LoraPpoCommandTests.RewardModelFolder(TrainingCommandTestsModels.TinyModel));
    static readonly Lazy<string> LazyHh = new(() => TrainingCommandTestsModels.HhSample(24));

    public static string Policy => TrainingCommandTestsModels.TinyModel;
    public static string RewardModel => LazyRewardModel.Value;
    public static string Hh => LazyHh.Value;

    /// <summary>The arguments that start a run in <paramref name="outDir"/>: 4 comparisons and 3 evaluation comparisons a round.</summary>
    public static string[] Args(string outDir, params string[] more) =>
    [
        "loop", "--out", outDir, "--policy", Policy, "--reward-model", RewardModel, "--preferences", Hh, "--prompts", Hh, "--eval-prompts", Hh,
        "--comparisons", "4", "--eval-comparisons", "3", "--max-new-tokens", "6",
        "--reward-args", "--max-steps 2 --batch-size 4 --max-length 64",
        "--train-args", "--max-steps 1 --batch-size 4 --mini-batch-size 4 --max-new-tokens 6 --max-length 64 --eval-prompt-count 2",
        .. more,
    ];
}
