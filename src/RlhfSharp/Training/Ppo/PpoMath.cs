using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// PPO's maths as pure functions of tensors (after trlx's modeling_ppo.py). Unless a parameter says otherwise,
/// every tensor is [batch, responseTime] float32, and <c>mask</c> is 1 at a real response token and 0 on the
/// padding after the response ends (responses are right-padded). Padding positions never enter a statistic,
/// and tensors returned per token are 0 there.
/// </summary>
internal static partial class PpoMath
{
    /// <summary>Whitening adds this to the variance before the reciprocal square root.</summary>
    public const double WhitenEpsilon = 1e-8;

    /// <summary>sum(x * mask) / sum(mask): the mean over real tokens, a scalar tensor.</summary>
    public static Tensor MaskedMean(Tensor x, Tensor mask)
    {
        using var scope = NewDisposeScope();
        return ((x * mask).sum() / mask.sum()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The variance over real tokens, a scalar tensor: v = MaskedMean((x - MaskedMean(x))^2), times n / (n - 1)
    /// with n = sum(mask) when <paramref name="unbiased"/> (Bessel's correction, as torch.var).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer real tokens than the estimate needs (1, or 2 when unbiased).</exception>
    public static Tensor MaskedVariance(Tensor x, Tensor mask, bool unbiased = true)
    {
        using var scope = NewDisposeScope();
        double count = mask.sum().ToDouble();
        if (count < (unbiased ? 2 : 1))
            throw new ArgumentException($"the variance over {count} real tokens is undefined", nameof(mask));
        var variance = MaskedMean((x - MaskedMean(x, mask)).square(), mask);
        if (unbiased) variance = variance * (count / (count - 1));
        return variance.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// (x - mean) * rsqrt(var + 1e-8), with mean and unbiased var over real tokens only; when
    /// <paramref name="shiftMean"/> is false the mean is added back (unit variance, mean kept). Padding is 0.
    /// </summary>
    public static Tensor Whiten(Tensor x, Tensor mask, bool shiftMean = true)
    {
        using var scope = NewDisposeScope();
        return Whitened(x, mask, MaskedMean(x, mask), (MaskedVariance(x, mask) + WhitenEpsilon).rsqrt(), shiftMean).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Whiten"/> with the mean and unbiased variance given rather than measured on <paramref name="x"/>:
    /// those of every rank's tokens in a data-parallel run.
    /// </summary>
    public static Tensor Whiten(Tensor x, Tensor mask, double mean, double variance, bool shiftMean = true)
    {
        using var scope = NewDisposeScope();
        return Whitened(x, mask, tensor(mean), tensor(1 / Math.Sqrt(variance + WhitenEpsilon)), shiftMean).MoveToOuterDisposeScope();
    }

    /// <summary>(x - mean) * scale on real tokens, the mean added back unless <paramref name="shiftMean"/>; padding 0.</summary>
    static Tensor Whitened(Tensor x, Tensor mask, Tensor mean, Tensor scale, bool shiftMean)
    {
        var whitened = (x - mean) * scale;
        if (!shiftMean) whitened = whitened + mean;
        return whitened * mask;
    }
}
