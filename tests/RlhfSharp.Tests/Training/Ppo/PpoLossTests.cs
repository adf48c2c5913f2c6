using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

public class PpoLossTests
{
    [Fact]
    public void Policy_loss_clips_the_ratio_on_the_pessimistic_side_only()
    {
        // Old log-probs 0, so ratio = exp(logp). eps = 0.2. Padding (row 1, t2) has ratio 3 and advantage 5.
        using var logProbs = Rows.Of([MathF.Log(1.1f), MathF.Log(1.5f), MathF.Log(1.5f)], [MathF.Log(0.5f), MathF.Log(0.5f), MathF.Log(3)]);
        using var oldLogProbs = zeros(2, 3);
        using var advantages = Rows.Of([1, 1, -1], [-1, 1, 5]);
        using var mask = Rows.Of([1, 1, 1], [1, 1, 0]);
        // max(-A r, -A clip(r, 0.8, 1.2)) per token:
        //   r 1.1, A +1: max(-1.1, -1.1) = -1.1            (inside the range)
        //   r 1.5, A +1: max(-1.5, -1.2) = -1.2  clipped
        //   r 1.5, A -1: max( 1.5,  1.2) =  1.5            (outside, but the unclipped term is larger)
        //   r 0.5, A -1: max( 0.5,  0.8) =  0.8  clipped
        //   r 0.5, A +1: max(-0.5, -0.8) = -0.5            (outside, unclipped larger)
        // loss = (-1.1 - 1.2 + 1.5 + 0.8 - 0.5) / 5 = -0.1; clip fraction 2 / 5 (trlx's count, not |r - 1| > eps's 4 / 5).
        // k3 = (r - 1) - log r: 0.0046898, 0.0945349 (x2), 0.1931472 (x2); mean 0.5800540 / 5 = 0.1160108.
        var (loss, clipFraction, approxKl) = PpoMath.PolicyLoss(logProbs, oldLogProbs, advantages, mask, clipRange: 0.2);
        Assert.Equal(-0.1f, loss.item<float>(), 5);
        Assert.Equal(0.4, clipFraction, 6);
        Assert.Equal(0.1160108, approxKl, 5);
    }

    [Fact]
    public void Policy_loss_has_no_gradient_through_the_clipped_tokens()
    {
        using var logProbs = Rows.Of([MathF.Log(1.1f), MathF.Log(1.5f)], [0, 0]).requires_grad_();
        using var mask = Rows.Of([1, 1], [1, 0]);
        var (loss, _, _) = PpoMath.PolicyLoss(logProbs, zeros(2, 2), ones(2, 2), mask, clipRange: 0.2);
        loss.backward();
        // d/dlogp of -ratio / 3 = -ratio / 3 at the unclipped token; 0 where clipped and on padding.
        Rows.Equal([[-1.1f / 3, 0], [-1f / 3, 0]], logProbs.grad!);
    }

    [Fact]
    public void Value_loss_takes_the_larger_of_the_clipped_and_unclipped_errors()
    {
        // eps_v = 0.2; padding (row 1, t1) holds garbage.
        using var values = Rows.Of([1.0f, 0.6f, 1.0f], [-1, 50, 0]);
        using var oldValues = Rows.Of([0.5f, 0.5f, 0.5f], [0, 0, 0]);
        using var returns = Rows.Of([1.0f, 0, 0], [-1, -50, 0]);
        using var mask = Rows.Of([1, 1, 1], [1, 0, 0]);
        // V 1.0, Vold 0.5, R 1  : V_clip 0.7; max(0,    0.09) = 0.09  clipped
        // V 0.6, Vold 0.5, R 0  : V_clip 0.6; max(0.36, 0.36) = 0.36
        // V 1.0, Vold 0.5, R 0  : V_clip 0.7; max(1,    0.49) = 1     (clipped value, unclipped error larger)
        // V -1,  Vold 0,   R -1 : V_clip -0.2; max(0,   0.64) = 0.64  clipped
        // loss = 0.5 * (0.09 + 0.36 + 1 + 0.64) / 4 = 0.5 * 0.5225 = 0.26125; clip fraction 2 / 4.
        var (loss, clipFraction) = PpoMath.ValueLoss(values, oldValues, returns, mask, clipRangeValue: 0.2);
        Assert.Equal(0.26125f, loss.item<float>(), 5);
        Assert.Equal(0.5, clipFraction, 6);
    }

    [Fact]
    public void A_value_inside_the_clip_range_is_not_counted_as_clipped_by_rounding()
    {
        // V 0.23, Vold 0.1, R 0.3: |V - Vold| = 0.13 < 0.2, so V_clip = V and both errors are (0.3 - 0.23)^2 = 0.0049: not
        // clipped. In float32, Vold + (V - Vold) = 0.22999999 (not 0.23), whose squared error rounds larger (0.00490000332 against
        // 0.00490000099): computed that way, the value counted as clipped. loss = 0.5 * 0.0049 = 0.00245.
        using var values = Rows.Of([0.23f]);
        using var oldValues = Rows.Of([0.1f]);
        using var returns = Rows.Of([0.3f]);
        using var mask = Rows.Of([1]);
        var (loss, clipFraction) = PpoMath.ValueLoss(values, oldValues, returns, mask, clipRangeValue: 0.2);
        Assert.Equal(0.0, clipFraction);
        Assert.Equal(0.00245f, loss.item<float>(), 7);
    }

    [Fact]
    public void Entropy_of_a_uniform_distribution_is_log_vocab()
    {
        // Real tokens see uniform logits over 4 words: H = log 4 = 1.3862944. The padding position is
        // nearly one-hot (H ~ 0) and would pull the mean down if it counted.
        using var logits = zeros(2, 3, 4);
        logits[1, 2, 0] = tensor(100f);
        using var mask = Rows.Of([1, 1, 1], [1, 1, 0]);
        Assert.Equal(1.3862944f, PpoMath.Entropy(logits, mask).item<float>(), 5);
    }
}
