using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Grpo;

/// <summary>How the token losses of a batch make its loss (TRL's loss_type): the names <see cref="GroupSamplingOptions.LossType"/> takes.</summary>
public static class GrpoLossType
{
    /// <summary>The mean over each completion's tokens, then over the completions (Shao et al. 2024).</summary>
    public const string Grpo = "grpo";
    /// <summary>The sum over every token of the batch over their number.</summary>
    public const string Bnpo = "bnpo";
    /// <summary>The sum over every token over completions x max_completion_length (Liu et al. 2025, Dr. GRPO).</summary>
    public const string DrGrpo = "dr_grpo";

    public static IReadOnlyList<string> All { get; } = [Grpo, Bnpo, DrGrpo];
}

/// <summary>Per-token terms of a batch of completions, 0 on padding: the loss, where clipping held the ratio, and the k3 KL (null without beta).</summary>
internal sealed record TokenLosses(Tensor Loss, Tensor Clipped, Tensor? Kl);

/// <summary>
/// GRPO's and RLOO's maths as pure functions (after TRL's GRPOTrainer and RLOOTrainer). Advantages are per completion,
/// from the rewards of one group (the completions of one prompt); token tensors are [completions, responseTime] float32 with
/// <c>mask</c> 1 at real response tokens and 0 on the padding after them.
/// </summary>
internal static class GrpoMath
{
    /// <summary>Added to the group's standard deviation before dividing by it (TRL's 1e-4).</summary>
    public const double AdvantageEpsilon = 1e-4;

    /// <summary>
    /// GRPO: A_i = (r_i - mean(r)) / (std(r) + 1e-4) with the unbiased std, or without <paramref name="scaleByStd"/>
    /// A_i = r_i - mean(r) (Dr. GRPO: no division, which would weight groups by their difficulty). A group whose rewards are
    /// all equal teaches nothing: its advantages are exactly 0 (floating-point means would leave 1e-17s divided by 1e-4).
    /// </summary>
    public static double[] GroupRelativeAdvantages(IReadOnlyList<double> rewards, bool scaleByStd)
    {
        RequireGroup(rewards);
        if (HasNoSpread(rewards)) return new double[rewards.Count];
        double mean = rewards.Average(), scale = scaleByStd ? StandardDeviation(rewards) + AdvantageEpsilon : 1;
        return rewards.Select(r => (r - mean) / scale).ToArray();
    }

    /// <summary>
    /// RLOO (Ahmadian et al. 2024): A_i = r_i - (sum_j r_j - r_i) / (k - 1), the reward over the mean of the group's other
    /// k - 1 completions; exactly 0 in a group whose rewards are all equal.
    /// </summary>
    public static double[] LeaveOneOutAdvantages(IReadOnlyList<double> rewards)
    {
        RequireGroup(rewards);
        if (HasNoSpread(rewards)) return new double[rewards.Count];
        double sum = rewards.Sum();
        return rewards.Select(r => r - (sum - r) / (rewards.Count - 1)).ToArray();
    }

    /// <summary>Whether every reward of the group is the same (its completions are then not told apart).</summary>
    public static bool HasNoSpread(IReadOnlyList<double> rewards) => rewards.All(r => r == rewards[0]);

    /// <summary>The unbiased standard deviation (as torch.std); 0 for fewer than two values.</summary>
    public static double StandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    static void RequireGroup(IReadOnlyList<double> rewards)
    {
        if (rewards.Count < 2) throw new ArgumentException($"a group needs at least 2 completions, got {rewards.Count}", nameof(rewards));
    }

    /// <summary>
    /// Per token, with ratio = exp(logp - logp_old) and A the completion's advantage (<paramref name="advantages"/> [completions]):
    /// loss = -min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A) + beta * k3, where k3 = exp(ref - logp) - (ref - logp) - 1
    /// estimates KL(policy || reference) (Schulman's k3: never negative). Clipped, as TRL counts it, is where the clip held
    /// the ratio against the advantage: ratio &lt; 1 - eps with A &lt; 0, or ratio &gt; 1 + eps with A &gt; 0.
    /// Log-ratios are masked before exp, so whatever padding holds cannot overflow.
    /// </summary>
    /// <param name="refLogProbs">The reference's log-probabilities; null when <paramref name="beta"/> is 0 (no reference).</param>
    public static TokenLosses TokenLosses(Tensor logProbs, Tensor oldLogProbs, Tensor advantages, Tensor mask, double epsilon, Tensor? refLogProbs, double beta)
    {
        if (beta != 0 && refLogProbs is null) throw new ArgumentNullException(nameof(refLogProbs), "a KL term (beta > 0) needs the reference's log-probabilities");
        using var scope = NewDisposeScope();
        var ratio = ((logProbs - oldLogProbs) * mask).exp();
        var advantage = advantages.unsqueeze(1);
        var loss = -minimum(ratio * advantage, ratio.clamp(1 - epsilon, 1 + epsilon) * advantage);
        Tensor? kl = null;
        if (beta != 0)
        {
            var towardsReference = (refLogProbs! - logProbs) * mask;
            kl = (towardsReference.exp() - towardsReference - 1) * mask;
            loss = loss + beta * kl;
        }
        Tensor clipped;
        using (no_grad())
            clipped = (ratio.lt(1 - epsilon).logical_and(advantage.lt(0)).logical_or(ratio.gt(1 + epsilon).logical_and(advantage.gt(0))).to_type(mask.dtype) * mask)
                .MoveToOuterDisposeScope();
        return new TokenLosses((loss * mask).MoveToOuterDisposeScope(), clipped, kl?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The numerator of the batch loss that <paramref name="tokenLoss"/>'s completions add (a scalar tensor): grpo, the sum
    /// of each completion's mean token loss; bnpo and dr_grpo, the sum of every token loss. Divided by
    /// <see cref="Normaliser"/> of the whole batch, the shares of a batch's parts add up to its <see cref="Loss"/>.
    /// </summary>
    public static Tensor LossSum(Tensor tokenLoss, Tensor mask, string lossType)
    {
        using var scope = NewDisposeScope();
        var sum = lossType == GrpoLossType.Grpo
            ? ((tokenLoss * mask).sum(1) / mask.sum(1).clamp_min(1)).sum()
            : (tokenLoss * mask).sum();
        return sum.MoveToOuterDisposeScope();
    }

    /// <summary>What a batch's <see cref="LossSum"/> is divided by: grpo, its completions; bnpo, its real tokens (at least 1);
    /// dr_grpo, completions x max_completion_length.</summary>
    public static double Normaliser(string lossType, long rows, double tokens, int maxCompletionLength) => lossType switch
    {
        GrpoLossType.Grpo => rows,
        GrpoLossType.Bnpo => Math.Max(1, tokens),
        GrpoLossType.DrGrpo => (double)rows * maxCompletionLength,
        _ => throw new ArgumentException($"unknown loss type '{lossType}'", nameof(lossType)),
    };

    /// <summary>The batch's loss: <see cref="LossSum"/> over <see cref="Normaliser"/>.</summary>
    public static Tensor Loss(Tensor tokenLoss, Tensor mask, string lossType, int maxCompletionLength)
    {
        using var scope = NewDisposeScope();
        double normaliser = Normaliser(lossType, tokenLoss.shape[0], mask.sum().ToDouble(), maxCompletionLength);
        return (LossSum(tokenLoss, mask, lossType) / normaliser).MoveToOuterDisposeScope();
    }
}
