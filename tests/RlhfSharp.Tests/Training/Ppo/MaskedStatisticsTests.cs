using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

public class MaskedStatisticsTests
{
    // Real tokens 1, 2, 3 | 5; the 99s are padding and must not count.
    // mean = 11 / 4 = 2.75; deviations -1.75, -0.75, 0.25, 2.25; squares 3.0625 + 0.5625 + 0.0625 + 5.0625 = 8.75.
    static Tensor X() => Rows.Of([1, 2, 3], [5, 99, 99]);
    static Tensor Mask() => Rows.Of([1, 1, 1], [1, 0, 0]);

    [Fact]
    public void Mean_and_variance_ignore_padding()
    {
        Assert.Equal(2.75f, PpoMath.MaskedMean(X(), Mask()).item<float>(), 5);
        // Unbiased: 8.75 / 3 = 2.9166667; population: 8.75 / 4 = 2.1875.
        Assert.Equal(2.9166667f, PpoMath.MaskedVariance(X(), Mask()).item<float>(), 5);
        Assert.Equal(2.1875f, PpoMath.MaskedVariance(X(), Mask(), unbiased: false).item<float>(), 5);
    }

    [Fact]
    public void Whitening_uses_real_tokens_only_and_zeroes_padding()
    {
        // rsqrt(2.9166667 + 1e-8) = 0.5855400; (x - 2.75) * 0.5855400.
        Rows.Equal([[-1.0246951f, -0.4391550f, 0.1463850f], [1.3174651f, 0, 0]], PpoMath.Whiten(X(), Mask()));
        // Without the shift the mean 2.75 comes back: -1.0246951 + 2.75 = 1.7253049, ...
        Rows.Equal([[1.7253049f, 2.3108450f, 2.8963850f], [4.0674651f, 0, 0]], PpoMath.Whiten(X(), Mask(), shiftMean: false));
    }

    [Fact]
    public void Variance_of_a_single_real_token_is_refused_when_unbiased()
    {
        using var mask = Rows.Of([1, 0, 0], [0, 0, 0]);
        Assert.Throws<ArgumentException>(() => PpoMath.MaskedVariance(X(), mask));
        Assert.Equal(0f, PpoMath.MaskedVariance(X(), mask, unbiased: false).item<float>());
    }
}
