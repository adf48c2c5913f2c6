using RlhfSharp.Tests.Training.Ppo;
using RlhfSharp.Training.Grpo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Grpo;

/// <summary>GRPO's and RLOO's maths against values worked out by hand.</summary>
public class GrpoMathTests
{
    [Fact]
    public void Grpo_advantages_are_the_reward_minus_the_group_mean_over_the_group_std()
    {
        // Rewards 1, 0, 1, 0: mean 0.5; unbiased std sqrt(4 * 0.25 / 3) = sqrt(1/3) = 0.577350;
        // A = +-0.5 / (0.577350 + 1e-4) = +-0.865875.
        var advantages = GrpoMath.GroupRelativeAdvantages([1, 0, 1, 0], scaleByStd: true);
        Assert.Equal([0.865875, -0.865875, 0.865875, -0.865875], advantages.Select(a => Math.Round(a, 6)));
    }

    [Fact]
    public void Without_std_scaling_the_advantages_are_the_reward_minus_the_group_mean_as_in_dr_grpo()
    {
        // Rewards 3, 1, 2: mean 2, so A = 1, -1, 0 whatever the spread.
        Assert.Equal([1.0, -1.0, 0.0], GrpoMath.GroupRelativeAdvantages([3, 1, 2], scaleByStd: false));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_group_whose_rewards_are_all_equal_has_zero_advantages(bool scaleByStd)
    {
        // 0.1 * 3 / 3 is 0.10000000000000002 in floating point: without the rule the advantages would be 1e-17 / 1e-4, not 0.
        Assert.Equal([0.0, 0.0, 0.0], GrpoMath.GroupRelativeAdvantages([0.1, 0.1, 0.1], scaleByStd));
        Assert.Equal([0.0, 0.0], GrpoMath.LeaveOneOutAdvantages([0.1, 0.1]));
        Assert.True(GrpoMath.HasNoSpread([0.1, 0.1, 0.1]));
        Assert.False(GrpoMath.HasNoSpread([0.1, 0.1, 0.2]));
    }

    [Fact]
    public void Rloo_advantages_are_the_reward_minus_the_mean_of_the_other_completions()
    {
        // Rewards 1, 2, 6: baselines (2 + 6) / 2 = 4, (1 + 6) / 2 = 3.5, (1 + 2) / 2 = 1.5; A = -3, -1.5, 4.5.
        Assert.Equal([-3.0, -1.5, 4.5], GrpoMath.LeaveOneOutAdvantages([1, 2, 6]));
    }

    [Fact]
    public void The_standard_deviation_is_unbiased_as_torch_std()
    {
        // 1, 2, 6: mean 3, squared deviations 4 + 1 + 9 = 14, / (3 - 1) = 7, sqrt 7 = 2.645751.
        Assert.Equal(2.645751, GrpoMath.StandardDeviation([1, 2, 6]), 6);
    }

    // Two completions: row 0 (A = +1) has two tokens, row 1 (A = -2) one token and a padding position holding garbage.
    // Row 0: token 0 has ratio exp(ln 1.5) = 1.5 and ref - logp = ln 2; token 1 has ratio 1 and ref = logp.
    // Row 1: token 0 has ratio exp(-ln 2) = 0.5 and ref - logp = -ln 2.
    static readonly float Ln15 = MathF.Log(1.5f), Ln2 = MathF.Log(2f);
    static Tensor LogProbs => Rows.Of([-1.0f, -2.0f], [-0.5f, -3.0f]);
    static Tensor OldLogProbs => Rows.Of([-1.0f - Ln15, -2.0f], [-0.5f + Ln2, 50f]);
    static Tensor RefLogProbs => Rows.Of([-1.0f + Ln2, -2.0f], [-0.5f - Ln2, 60f]);
    static Tensor Mask => Rows.Of([1, 1], [1, 0]);
    static Tensor Advantages => tensor(new[] { 1f, -2f });

    [Fact]
    public void The_token_loss_is_the_clipped_ratio_objective_plus_beta_times_the_k3_kl()
    {
        var losses = GrpoMath.TokenLosses(LogProbs, OldLogProbs, Advantages, Mask, epsilon: 0.2, RefLogProbs, beta: 0.1);
        // Row 0, token 0: min(1.5 * 1, clip(1.5) * 1) = 1.2, so -1.2 (clipped); k3 = exp(ln 2) - ln 2 - 1 = 0.306853.
        // Row 0, token 1: ratio 1: -1; k3 = 0.
        // Row 1, token 0: min(0.5 * -2, clip(0.5) * -2) = min(-1, -1.6) = -1.6, so 1.6 (clipped); k3 = 0.5 + ln 2 - 1 = 0.193147.
        // Loss = objective + 0.1 * k3; padding 0.
        Rows.Equal([[-1.2f + 0.0306853f, -1.0f], [1.6f + 0.0193147f, 0f]], losses.Loss);
        Rows.Equal([[1, 0], [1, 0]], losses.Clipped);
        Rows.Equal([[0.306853f, 0f], [0.193147f, 0f]], losses.Kl!);
    }

    [Fact]
    public void Without_beta_there_is_no_kl_term_and_no_reference_is_needed()
    {
        var losses = GrpoMath.TokenLosses(LogProbs, OldLogProbs, Advantages, Mask, epsilon: 0.2, refLogProbs: null, beta: 0);
        Rows.Equal([[-1.2f, -1.0f], [1.6f, 0f]], losses.Loss);
        Assert.Null(losses.Kl);
    }

    [Theory]
    // Token losses -1.1693147, -1.0 (row 0) and 1.6193147 (row 1):
    // grpo: mean of the rows' token means, ((-1.1693147 - 1.0) / 2 + 1.6193147 / 1) / 2 = 0.2673287;
    // bnpo: their sum -0.55 over the 3 real tokens = -0.1833333;
    // dr_grpo: -0.55 over 2 rows x max_completion_length 4 = -0.06875.
    [InlineData(GrpoLossType.Grpo, 0.2673287)]
    [InlineData(GrpoLossType.Bnpo, -0.1833333)]
    [InlineData(GrpoLossType.DrGrpo, -0.06875)]
    public void The_loss_types_normalise_the_token_losses_as_trl_documents(string lossType, double expected)
    {
        var losses = GrpoMath.TokenLosses(LogProbs, OldLogProbs, Advantages, Mask, epsilon: 0.2, RefLogProbs, beta: 0.1);
        Assert.Equal(expected, GrpoMath.Loss(losses.Loss, Mask, lossType, maxCompletionLength: 4).item<float>(), 5);
    }

    [Theory]
    [InlineData(GrpoLossType.Grpo)]
    [InlineData(GrpoLossType.Bnpo)]
    [InlineData(GrpoLossType.DrGrpo)]
    public void Each_rows_share_of_the_loss_over_the_whole_batchs_normaliser_adds_up_to_the_batch_loss(string lossType)
    {
        var losses = GrpoMath.TokenLosses(LogProbs, OldLogProbs, Advantages, Mask, epsilon: 0.2, RefLogProbs, beta: 0.1);
        double normaliser = GrpoMath.Normaliser(lossType, rows: 2, tokens: 3, maxCompletionLength: 4);
        double parts = Enumerable.Range(0, 2).Sum(row => GrpoMath.LossSum(losses.Loss.narrow(0, row, 1), Mask.narrow(0, row, 1), lossType).item<float>()) / normaliser;
        Assert.Equal(GrpoMath.Loss(losses.Loss, Mask, lossType, maxCompletionLength: 4).item<float>(), parts, 5);
    }

    [Fact]
    public void A_clipped_token_passes_no_policy_gradient_and_an_unclipped_one_passes_minus_its_advantage()
    {
        var logProbs = LogProbs.requires_grad_(true);
        var losses = GrpoMath.TokenLosses(logProbs, OldLogProbs, Advantages, Mask, epsilon: 0.2, refLogProbs: null, beta: 0);
        GrpoMath.Loss(losses.Loss, Mask, GrpoLossType.Bnpo, maxCompletionLength: 4).backward();
        // bnpo over 3 tokens: d(-A * ratio / 3) / d logp = -A * ratio / 3 where unclipped; row 0 token 1: -1 * 1 / 3.
        // The clipped tokens (row 0 token 0, row 1 token 0) and the padding get none.
        Rows.Equal([[0f, -1f / 3], [0f, 0f]], logProbs.grad!);
    }
}
