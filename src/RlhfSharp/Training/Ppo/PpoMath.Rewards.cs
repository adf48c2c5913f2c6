using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

internal static partial class PpoMath
{
    /// <summary>(logp_t - ref_t) on real tokens, 0 on padding: the policy's log-probability of each response token over the reference's.</summary>
    public static Tensor LogRatio(Tensor logProbs, Tensor refLogProbs, Tensor mask)
    {
        using var scope = NewDisposeScope();
        return ((logProbs - refLogProbs) * mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-token rewards r_t = -beta * (logp_t - ref_t), plus the row's score at its last real token
    /// (the reward model scores whole responses); 0 on padding.
    /// </summary>
    /// <param name="scores">[batch]: one reward-model score per response.</param>
    /// <param name="logRatio">logp_t - ref_t (<see cref="LogRatio"/>).</param>
    public static Tensor KlPenalizedRewards(Tensor scores, Tensor logRatio, Tensor mask, double beta)
    {
        using var scope = NewDisposeScope();
        var rewards = -beta * logRatio * mask;
        return (rewards + scores.unsqueeze(1) * LastTokenIndicator(mask)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Generalised advantage estimation (Schulman et al. 2016), backwards over each row's real tokens:
    /// delta_t = r_t + gamma * V_{t+1} - V_t, with V = 0 beyond the last real token;
    /// A_t = delta_t + gamma * lambda * A_{t+1}, so A_t = sum_k (gamma * lambda)^k delta_{t+k};
    /// returns R_t = A_t + V_t. Both are 0 on padding and carry no gradient (rollout quantities).
    /// Whitening the advantages is left to the caller, which may want statistics over the whole rollout.
    /// </summary>
    public static (Tensor Advantages, Tensor Returns) AdvantagesAndReturns(
        Tensor rewards, Tensor values, Tensor mask, double gamma, double lambda)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long time = rewards.shape[1];
        var columns = new Tensor[time];
        var nextAdvantage = zeros_like(rewards.select(1, 0));
        var nextValue = zeros_like(nextAdvantage);
        for (long t = time - 1; t >= 0; t--)
        {
            var real = mask.select(1, t);
            var value = values.select(1, t);
            var delta = rewards.select(1, t) + gamma * nextValue - value;
            nextAdvantage = (delta + gamma * lambda * nextAdvantage) * real;
            nextValue = value * real;
            columns[t] = nextAdvantage;
        }
        var advantages = stack(columns, 1);
        var returns = (advantages + values) * mask;
        return (advantages.MoveToOuterDisposeScope(), returns.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Two estimates of KL(policy || reference) per response, averaged over rows:
    /// <c>MeanSequenceKl</c> = mean_rows sum_t (logp_t - ref_t) (k1), and
    /// <c>K3</c> = mean_rows sum_t ((r_t - 1) - log r_t) with r_t = exp(ref_t - logp_t)
    /// (Schulman's k3: unbiased and never negative; http://joschu.net/blog/kl-approx.html).
    /// </summary>
    /// <param name="logRatio">logp_t - ref_t (<see cref="LogRatio"/>).</param>
    public static (double MeanSequenceKl, double K3) KlEstimates(Tensor logRatio, Tensor mask)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        logRatio = logRatio * mask;
        var k3 = (-logRatio).exp() - 1 + logRatio;
        return (logRatio.sum(1).mean().ToDouble(), k3.sum(1).mean().ToDouble());
    }

    /// <summary>1 at each row's last real token, else 0: mask_t - mask_{t+1}, with mask_T = 0 (right padding).</summary>
    static Tensor LastTokenIndicator(Tensor mask)
    {
        long time = mask.shape[1];
        var next = cat([mask.narrow(1, 1, time - 1), zeros_like(mask.narrow(1, 0, 1))], 1);
        return mask - next;
    }
}
