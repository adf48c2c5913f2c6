using RlhfSharp.Data;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Grpo;

/// <summary>
/// One prompt's num_generations completions as one batch: their rewards and advantages, the sequences laid out without
/// padding between prompts (one prompt), and the no-grad log-probabilities the loss compares against: the policy's at
/// sampling time (<see cref="OldLogProbs"/>, null when the step makes a single update, whose ratio is then exactly 1 as
/// TRL's) and the reference's (null without beta).
/// </summary>
internal sealed class CompletionGroup : IDisposable
{
    public required PromptRecord Prompt { get; init; }
    public required IReadOnlyList<SampledCompletion> Completions { get; init; }
    /// <summary>Each completion's reward (the weighted sum of the reward functions).</summary>
    public required IReadOnlyList<double> Rewards { get; init; }
    /// <summary>Each reward function's own scores by its name; empty unless the reward is a <see cref="Rewards.RewardSet"/>.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<double>> RewardsByFunction { get; init; }
    public required IReadOnlyList<double> Advantages { get; init; }
    public required SequenceLayout Layout { get; init; }
    /// <summary><see cref="Advantages"/> as a [completions] tensor.</summary>
    public required Tensor AdvantageTensor { get; init; }
    public Tensor? OldLogProbs { get; init; }
    public Tensor? RefLogProbs { get; init; }

    public int Count => Completions.Count;
    /// <summary>Real completion tokens in the group.</summary>
    public int Tokens => Completions.Sum(c => c.Ids.Count);

    public void Dispose()
    {
        foreach (var t in new[] { Layout.Ids, Layout.Attention, Layout.ResponseMask, AdvantageTensor, OldLogProbs, RefLogProbs }) t?.Dispose();
    }
}
