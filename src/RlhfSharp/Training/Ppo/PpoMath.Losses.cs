using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

internal static partial class PpoMath
{
    /// <summary>
    /// The clipped surrogate loss (Schulman et al. 2017): with ratio = exp(logp - logp_old),
    /// loss = MaskedMean(max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps))).
    /// <c>ClipFraction</c> is, as in trlx, the share of real tokens where the clipped term is the larger one
    /// (clipping changes the loss there), not every token whose ratio leaves [1 - eps, 1 + eps];
    /// <c>ApproxKl</c> = MaskedMean((ratio - 1) - log ratio), k3 of KL(old || new).
    /// </summary>
    public static (Tensor Loss, double ClipFraction, double ApproxKl) PolicyLoss(
        Tensor logProbs, Tensor oldLogProbs, Tensor advantages, Tensor mask, double clipRange)
    {
        using var scope = NewDisposeScope();
        // Masked before exp: whatever sits in padding cannot overflow into NaN, forwards or backwards.
        var logRatio = (logProbs - oldLogProbs) * mask;
        var ratio = logRatio.exp();
        var unclipped = -advantages * ratio;
        var clipped = -advantages * ratio.clamp(1 - clipRange, 1 + clipRange);
        var loss = MaskedMean(maximum(unclipped, clipped), mask);
        using var noGrad = no_grad();
        double clipFraction = MaskedMean(clipped.gt(unclipped).to_type(mask.dtype), mask).ToDouble();
        double approxKl = MaskedMean(ratio - 1 - logRatio, mask).ToDouble();
        return (loss.MoveToOuterDisposeScope(), clipFraction, approxKl);
    }

    /// <summary>
    /// The clipped value loss: with V_clip = clip(V, V_old - eps_v, V_old + eps_v),
    /// loss = 0.5 * MaskedMean(max((V - R)^2, (V_clip - R)^2)). <c>ClipFraction</c> is the share of real
    /// tokens where the clipped error is the larger one.
    /// </summary>
    public static (Tensor Loss, double ClipFraction) ValueLoss(
        Tensor values, Tensor oldValues, Tensor returns, Tensor mask, double clipRangeValue)
    {
        using var scope = NewDisposeScope();
        // Clamped to bounds rather than old + clamp(new - old): inside the range that returns V itself, so the clipped and the
        // unclipped errors are equal there, and rounding of (V - V_old) + V_old cannot count a value as clipped.
        var clippedValues = minimum(maximum(values, oldValues - clipRangeValue), oldValues + clipRangeValue);
        var unclipped = (values - returns).square();
        var clipped = (clippedValues - returns).square();
        var loss = 0.5 * MaskedMean(maximum(unclipped, clipped), mask);
        using var noGrad = no_grad();
        double clipFraction = MaskedMean(clipped.gt(unclipped).to_type(mask.dtype), mask).ToDouble();
        return (loss.MoveToOuterDisposeScope(), clipFraction);
    }

    /// <summary>
    /// The mean over real tokens of the policy's entropy H_t = -sum_v p_tv * log p_tv, p_t = softmax(logits_t);
    /// a scalar tensor.
    /// </summary>
    /// <param name="logits">[batch, responseTime, vocab].</param>
    public static Tensor Entropy(Tensor logits, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var logP = nn.functional.log_softmax(logits, -1);
        var entropy = -(logP.exp() * logP).sum(-1);
        return MaskedMean(entropy, mask).MoveToOuterDisposeScope();
    }
}
