using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Evaluation.Human;

public class BinomialTestsTests
{
    [Fact]
    public void Wilson_interval_of_30_of_46_matches_the_hand_computation()
    {
        // p = 30/46 = 0.652174, n = 46, z² = 3.841459, z²/n = 0.083510, denominator 1.083510.
        // center = (0.652174 + 0.041755) / 1.083510 = 0.640445
        // half = 1.959964·sqrt(0.652174·0.347826/46 + 3.841459/8464) / 1.083510
        //      = 1.959964·sqrt(0.00493137 + 0.00045386) / 1.083510 = 1.959964·0.0733841 / 1.083510 = 0.132745
        // interval = [0.5077, 0.7732]
        var interval = BinomialTests.Wilson(30, 46)!;
        Assert.Equal(0.5077, interval.Lower, 4);
        Assert.Equal(0.7732, interval.Upper, 4);
    }

    [Fact]
    public void Wilson_interval_is_null_without_trials_and_stays_inside_0_1()
    {
        Assert.Null(BinomialTests.Wilson(0, 0));
        // 0 of 5: center = (0 + z²/10) / (1 + z²/5) = 0.384146/1.768292 = 0.217241 = half, so the interval is [0, 0.4345].
        var none = BinomialTests.Wilson(0, 5)!;
        Assert.Equal(0, none.Lower, 12);
        Assert.Equal(0.4345, none.Upper, 4);
    }

    [Fact]
    public void Sign_test_of_0_against_5_is_2_of_32()
    {
        // P(X <= 0) = 1/32 for X ~ Binomial(5, 1/2); two-sided p = 2/32 = 0.0625, whichever side won.
        Assert.Equal(0.0625, BinomialTests.SignTest(0, 5), 12);
        Assert.Equal(0.0625, BinomialTests.SignTest(5, 0), 12);
    }

    [Fact]
    public void Sign_test_of_16_against_30_matches_the_exact_sum()
    {
        // Σ_{k=0}^{16} C(46, k) = 1,902,631,226,010; 2^46 = 70,368,744,177,664;
        // P(X <= 16) = 0.0270380159294, p = 2·that = 0.0540760318589.
        Assert.Equal(0.0540760318589, BinomialTests.SignTest(16, 30), 12);
    }

    [Fact]
    public void Sign_test_works_for_thousands_and_caps_at_1()
    {
        // n = 2000, min = 940: 2·Σ_{k=0}^{940} C(2000, k) / 2^2000 = 0.00777711890198 (exact integer sums in Python).
        Assert.Equal(0.00777711890198, BinomialTests.SignTest(940, 1060), 10);
        // a = b: 2·P(X <= n/2) > 1, capped; no decisive verdict at all: 1.
        Assert.Equal(1.0, BinomialTests.SignTest(7, 7));
        Assert.Equal(1.0, BinomialTests.SignTest(0, 0));
    }
}
