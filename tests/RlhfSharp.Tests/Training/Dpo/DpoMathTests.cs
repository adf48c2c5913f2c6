using RlhfSharp.Training.Dpo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Dpo;

/// <summary>
/// The DPO losses and metrics against numbers worked out by hand. One pair throughout: summed log-probabilities
/// policy chosen -3, rejected -5; reference chosen -4, rejected -4.5; 2 chosen and 4 rejected response tokens. So the
/// DPO margin is h = (-3 - -4) - (-5 - -4.5) = 1 - (-0.5) = 1.5.
/// </summary>
public class DpoMathTests
{
    const double Tolerance = 1e-6;

    static PairLogps Logps(params (float Chosen, float Rejected)[] pairs) =>
        new(tensor(pairs.Select(p => p.Chosen).ToArray()), tensor(pairs.Select(p => p.Rejected).ToArray()));

    static readonly PairLogps Policy = Logps((-3, -5)), Reference = Logps((-4, -4.5f)), Tokens = Logps((2, 4));

    static double Item(Tensor t) => t.item<float>();

    [Fact]
    public void The_margin_is_how_much_more_than_the_reference_the_policy_prefers_the_chosen_response() =>
        Assert.Equal(1.5, Item(DpoMath.Margin(Policy, Reference)), Tolerance);

    [Fact]
    public void The_sigmoid_loss_is_softplus_of_minus_beta_h_and_label_smoothing_adds_e_beta_h()
    {
        using var h = tensor(new[] { 1.5f });
        // -log sigmoid(0.1 x 1.5) = log(1 + e^-0.15) = log(1.860707976) = 0.6209570478.
        Assert.Equal(0.6209570478, Item(DpoMath.SigmoidLoss(h, beta: 0.1)), Tolerance);
        // 0.9 log(1 + e^-0.15) + 0.1 log(1 + e^0.15); log(1 + e^x) - log(1 + e^-x) = x, so this is 0.6209570478 + 0.1 x 0.15.
        Assert.Equal(0.6359570478, Item(DpoMath.SigmoidLoss(h, beta: 0.1, labelSmoothing: 0.1)), Tolerance);
    }

    [Theory]
    [InlineData(0.1, 0)]
    [InlineData(0.5, 0.3)]
    [InlineData(2, 0.1)]
    public void At_step_zero_the_policy_is_the_reference_and_the_sigmoid_loss_is_exactly_ln_2(double beta, double labelSmoothing)
    {
        var same = DpoMath.Margin(Policy, Policy);
        Assert.Equal(0f, same.item<float>());
        // log(1 + e^0) = ln 2 (and both smoothed terms are ln 2) in float32, bit for bit.
        Assert.Equal((float)Math.Log(2), DpoMath.SigmoidLoss(same, beta, labelSmoothing).item<float>());
    }

    [Fact]
    public void Ipo_is_the_squared_distance_of_the_per_token_margin_to_one_over_two_beta()
    {
        // Per token: policy -3/2 = -1.5 and -5/4 = -1.25, reference -4/2 = -2 and -4.5/4 = -1.125;
        // h = (-1.5 - -2) - (-1.25 - -1.125) = 0.5 + 0.125 = 0.625; 1/(2 x 0.1) = 5; (0.625 - 5)^2 = 19.140625.
        var options = new DpoOptions { Loss = DpoOptions.Ipo, Beta = 0.1 };
        var terms = DpoMath.Terms(options, DpoMath.ForLoss(options, Policy, Tokens), DpoMath.ForLoss(options, Reference, Tokens));
        Assert.Equal(19.140625, Item(terms.Losses), Tolerance);
        // The rewards are on the same per-token log-probabilities: 0.1 x 0.5 and 0.1 x -0.125.
        Assert.Equal(0.05, Item(terms.ChosenRewards), Tolerance);
        Assert.Equal(-0.0125, Item(terms.RejectedRewards), Tolerance);
    }

    [Fact]
    public void The_hinge_loss_is_one_minus_beta_h_until_the_margin_reaches_one_over_beta()
    {
        using var h = tensor(new[] { 1.5f });
        Assert.Equal(0.85, Item(DpoMath.HingeLoss(h, beta: 0.1)), Tolerance); // 1 - 0.15
        Assert.Equal(0, Item(DpoMath.HingeLoss(h, beta: 1)));                  // 1 - 1.5 < 0
        var terms = DpoMath.Terms(new DpoOptions { Loss = DpoOptions.Hinge, Beta = 0.1 }, Policy, Reference); // sums, not averages
        Assert.Equal(0.85, Item(terms.Losses), Tolerance);
    }

    [Fact]
    public void Simpo_needs_no_reference_and_works_on_per_token_averages_with_a_target_margin()
    {
        // Averages -3/2 = -1.5 and -5/4 = -1.25; beta 2, gamma 0.5: z = 2 x (-1.5 - -1.25) - 0.5 = -1;
        // -log sigmoid(-1) = log(1 + e) = 1.3132616875; with e = 0.2: 0.8 log(1 + e) + 0.2 log(1 + e^-1) = 1.3132616875 - 0.2 x 1.
        var options = new DpoOptions { Loss = DpoOptions.Simpo, Beta = 2, Gamma = 0.5 };
        var terms = DpoMath.Terms(options, DpoMath.ForLoss(options, Policy, Tokens), reference: null);
        Assert.Equal(1.3132616875, Item(terms.Losses), Tolerance);
        var smoothed = DpoMath.Terms(new DpoOptions { Loss = DpoOptions.Simpo, Beta = 2, Gamma = 0.5, LabelSmoothing = 0.2 }, DpoMath.ForLoss(options, Policy, Tokens), null);
        Assert.Equal(1.1132616875, Item(smoothed.Losses), Tolerance);
        // SimPO's rewards are beta x the average log-probability: 2 x -1.5 and 2 x -1.25.
        Assert.Equal(-3, Item(terms.ChosenRewards), Tolerance);
        Assert.Equal(-2.5, Item(terms.RejectedRewards), Tolerance);
    }

    [Fact]
    public void The_metrics_are_trls_means_over_the_pairs()
    {
        // Pair 1 as above: rewards 0.1 x (-3 - -4) = 0.1 and 0.1 x (-5 - -4.5) = -0.05, loss 0.6209570478.
        // Pair 2 prefers the rejected response: policy -6, -2; reference -5, -3: rewards -0.1 and 0.1, h = -2,
        // loss log(1 + e^0.2) = 0.7981388693.
        var policy = Logps((-3, -5), (-6, -2));
        var terms = DpoMath.Terms(new DpoOptions(), policy, Logps((-4, -4.5f), (-5, -3)));
        var metrics = DpoMath.Metrics(terms, policy, "eval_");
        Assert.Equal(new[] { "eval_loss", "eval_rewards/chosen", "eval_rewards/rejected", "eval_rewards/margins", "eval_rewards/accuracies", "eval_logps/chosen", "eval_logps/rejected" },
            metrics.Keys);
        Assert.Equal((0.6209570478 + 0.7981388693) / 2, metrics["eval_loss"], Tolerance);
        Assert.Equal((0.1 - 0.1) / 2, metrics["eval_rewards/chosen"], Tolerance);
        Assert.Equal((-0.05 + 0.1) / 2, metrics["eval_rewards/rejected"], Tolerance);
        Assert.Equal((0.15 + -0.2) / 2, metrics["eval_rewards/margins"], Tolerance);
        Assert.Equal(0.5, metrics["eval_rewards/accuracies"]);
        Assert.Equal(-4.5, metrics["eval_logps/chosen"], Tolerance);
        Assert.Equal(-3.5, metrics["eval_logps/rejected"], Tolerance);
    }

    [Fact]
    public void A_loss_against_the_reference_refuses_to_run_without_it() =>
        Assert.Throws<ArgumentException>(() => DpoMath.Terms(new DpoOptions { Loss = DpoOptions.Sigmoid }, Policy, reference: null));
}
