using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

public class RewardsAndAdvantagesTests
{
    [Fact]
    public void Kl_penalised_rewards_put_the_score_at_each_rows_last_real_token()
    {
        using var scores = tensor(new float[] { 2, -1 });
        using var logProbs = Rows.Of([-1, -2, -3], [-0.5f, -1, -9]);
        using var refLogProbs = Rows.Of([-1.5f, -2, -2], [-1, -0.5f, 0]);
        using var mask = Rows.Of([1, 1, 1], [1, 1, 0]);
        // Row 0: logp - ref = 0.5, 0, -1 -> -0.1 * that = -0.05, 0, 0.1; score 2 at t = 2 -> 2.1.
        // Row 1: logp - ref = 0.5, -0.5, (padding) -> -0.05, 0.05, 0; score -1 at t = 1 -> -0.95.
        var rewards = PpoMath.KlPenalizedRewards(scores, PpoMath.LogRatio(logProbs, refLogProbs, mask), mask, beta: 0.1);
        Rows.Equal([[-0.05f, 0, 2.1f], [-0.05f, -0.95f, 0]], rewards);
    }

    // Row 1 is two tokens long; its padding holds a reward of 7 and a value of 3 that must be ignored.
    static Tensor Rewards() => Rows.Of([0, 0, 1], [0, 2, 7]);
    static Tensor Values() => Rows.Of([0.5f, 0.5f, 0.5f], [1, 1, 3]);
    static Tensor Mask() => Rows.Of([1, 1, 1], [1, 1, 0]);

    [Fact]
    public void Gae_without_discount_runs_backwards_over_real_tokens()
    {
        // gamma 1, lambda 0.95; delta_t = r_t + V_{t+1} - V_t, A_t = delta_t + 0.95 A_{t+1}.
        // Row 0: t2: delta = 1 + 0 - 0.5 = 0.5, A = 0.5; t1: delta = 0, A = 0.475; t0: delta = 0, A = 0.45125.
        // Row 1: t1 (last real): delta = 2 + 0 - 1 = 1, A = 1; t0: delta = 0 + 1 - 1 = 0, A = 0.95.
        var (advantages, returns) = PpoMath.AdvantagesAndReturns(Rewards(), Values(), Mask(), gamma: 1, lambda: 0.95);
        Rows.Equal([[0.45125f, 0.475f, 0.5f], [0.95f, 1, 0]], advantages);
        // Returns = A + V: 0.95125, 0.975, 1.0 | 1.95, 2, (padding) 0.
        Rows.Equal([[0.95125f, 0.975f, 1.0f], [1.95f, 2, 0]], returns);
    }

    [Fact]
    public void Gae_with_discount_matches_hand_computed_values()
    {
        // gamma 0.9, lambda 0.95, gamma * lambda = 0.855.
        // Row 0: t2: delta = 1 - 0.5 = 0.5, A = 0.5; t1: delta = 0.9 * 0.5 - 0.5 = -0.05, A = -0.05 + 0.855 * 0.5 = 0.3775;
        //        t0: delta = -0.05, A = -0.05 + 0.855 * 0.3775 = 0.2727625.
        // Row 1: t1: delta = 2 - 1 = 1, A = 1; t0: delta = 0.9 * 1 - 1 = -0.1, A = -0.1 + 0.855 = 0.755.
        var (advantages, returns) = PpoMath.AdvantagesAndReturns(Rewards(), Values(), Mask(), gamma: 0.9, lambda: 0.95);
        Rows.Equal([[0.2727625f, 0.3775f, 0.5f], [0.755f, 1, 0]], advantages);
        Rows.Equal([[0.7727625f, 0.8775f, 1.0f], [1.755f, 2, 0]], returns);
    }

    [Fact]
    public void Kl_estimates_sum_over_real_tokens_and_average_over_rows()
    {
        using var logProbs = Rows.Of([-1, -2, -3], [-1, 5, 5]);
        using var refLogProbs = Rows.Of([-1.5f, -2, -2.5f], [-2, 0, 0]);
        using var mask = Rows.Of([1, 1, 1], [1, 0, 0]);
        // d = logp - ref: row 0 = 0.5, 0, -0.5 (sum 0); row 1 = 1 (sum 1). k1 = (0 + 1) / 2 = 0.5.
        // k3 = (r - 1) - log r with r = exp(-d): d = 0.5 -> 0.1065307; d = 0 -> 0; d = -0.5 -> 0.1487213; d = 1 -> 0.3678794.
        // Row sums 0.2552520 and 0.3678794; mean 0.3115657.
        var (meanSequenceKl, k3) = PpoMath.KlEstimates(PpoMath.LogRatio(logProbs, refLogProbs, mask), mask);
        Assert.Equal(0.5, meanSequenceKl, 5);
        Assert.Equal(0.3115657, k3, 5);
    }
}
