using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// One batch of experience. Sequences are laid out [left-padded prompt | right-padded response]: the prompt
/// fills columns [0, <see cref="PromptColumns"/>) and response token j sits at column PromptColumns + j, so
/// the logits and values that belong to it are read at column PromptColumns + j - 1. Per-token tensors are
/// [batch, responseColumns] with <see cref="ResponseMask"/> marking real response tokens.
/// </summary>
internal sealed class RolloutBatch : IDisposable
{
    public required IReadOnlyList<string> Prompts { get; init; }
    public required IReadOnlyList<string> Responses { get; init; }
    /// <summary>Reward-function scores before clipping and scaling.</summary>
    public required IReadOnlyList<double> Scores { get; init; }
    /// <summary>Each function's own scores when the reward is a <see cref="Rewards.RewardSet"/>; empty otherwise.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<double>> ScoresByFunction { get; init; }
    public required Tensor Ids { get; init; }
    public required Tensor AttentionMask { get; init; }
    public required long PromptColumns { get; init; }
    public required Tensor ResponseMask { get; init; }
    public required Tensor LogProbs { get; init; }
    /// <summary>log pi(token) - log pi_ref(token) of each response token under the policy and the frozen reference (0 on padding):
    /// computed once, for the KL penalty in <see cref="Rewards"/> and the logged KL estimates.</summary>
    public required Tensor LogRatio { get; init; }
    public required Tensor Values { get; init; }
    public required Tensor Rewards { get; init; }
    public required Tensor Advantages { get; init; }
    public required Tensor Returns { get; init; }
    /// <summary>The output of the policy's frozen bottom <see cref="FrozenBottomLayers"/> blocks over <see cref="Ids"/>, computed once
    /// for the rollout (hydra without dropout: <see cref="SharedBottomReference.Bottom"/>); training runs only the blocks above. Null:
    /// training runs the whole policy.</summary>
    public Tensor? FrozenBottom { get; init; }
    public int FrozenBottomLayers { get; init; }

    public int Count => Prompts.Count;
    public long ResponseColumns => ResponseMask.shape[1];

    public void Dispose()
    {
        foreach (var t in new[] { Ids, AttentionMask, ResponseMask, LogProbs, LogRatio, Values, Rewards, Advantages, Returns }) t.Dispose();
        FrozenBottom?.Dispose();
    }
}
