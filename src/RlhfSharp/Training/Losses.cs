using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>The training losses as pure functions of tensors.</summary>
internal static class Losses
{
    /// <summary>The label of positions that carry no loss (prompt and padding), as the encoder writes it.</summary>
    public const long IgnoreIndex = Data.ExampleEncoder.IgnoreLabel;

    /// <summary>
    /// Next-token cross-entropy averaged over positions whose label is not -100: logits [B, T, V] at
    /// position t predict labels[:, t + 1]. Returns the loss and the number of scored tokens.
    /// </summary>
    public static (Tensor Loss, long Tokens) CausalLm(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        long time = logits.shape[1];
        var predictions = logits.narrow(1, 0, time - 1).flatten(0, 1);
        var targets = labels.narrow(1, 1, time - 1).flatten();
        long tokens = targets.ne(IgnoreIndex).sum().item<long>();
        var loss = nn.functional.cross_entropy(predictions, targets, ignore_index: IgnoreIndex);
        return (loss.MoveToOuterDisposeScope(), tokens);
    }

    /// <summary>
    /// <see cref="CausalLm(Tensor, Tensor)"/> from the final hidden states [B, T, H] and the LM head, without the logits: only
    /// the scored positions are projected, a chunk at a time (<see cref="ChunkedLogProbs"/>).
    /// </summary>
    public static (Tensor Loss, long Tokens) CausalLm(Tensor hidden, Models.LmHead head, Tensor labels, long rowsPerChunk = 0)
    {
        using var scope = NewDisposeScope();
        var (logProbs, _) = ChunkedLogProbs.Scored(hidden, head, labels, rowsPerChunk);
        return ((-logProbs.mean()).MoveToOuterDisposeScope(), logProbs.shape[0]);
    }

    /// <summary>
    /// Pairwise reward-model loss (Bradley-Terry): mean of -log sigmoid(r_chosen - r_rejected - margin),
    /// plus <paramref name="centeringCoefficient"/> x mean((r_chosen + r_rejected)^2), which keeps rewards
    /// centred on zero (TRL's center_rewards_coefficient, suggested 0.01).
    /// </summary>
    public static Tensor PairwiseReward(Tensor chosen, Tensor rejected, double margin = 0, double centeringCoefficient = 0)
    {
        using var scope = NewDisposeScope();
        var loss = -nn.functional.logsigmoid(chosen - rejected - margin).mean();
        if (centeringCoefficient > 0) loss = loss + centeringCoefficient * (chosen + rejected).pow(2).mean();
        return loss.MoveToOuterDisposeScope();
    }
}
