using RlhfSharp.Models;
using RlhfSharp.Models.Layers;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

public class RotaryEmbeddingTests
{
    // Head dim 4, theta 100: inverse frequencies [1, 0.1]; at position 2 the angles are 2 and 0.2.
    static (Tensor X, Tensor Cos, Tensor Sin, RotaryEmbedding Rotary) Setup(RotaryLayout layout, int rotaryDim = 4)
    {
        var rotary = new RotaryEmbedding(rotaryDim, 100, layout);
        var (cos, sin) = rotary.Angles(tensor(new long[] { 2 }).view(1, 1));
        return (tensor(new float[] { 1, 2, 3, 4 }).view(1, 1, 1, 4), cos, sin, rotary);
    }

    static float[] Rotate(float a, float b, double angle) =>
        [(float)(a * Math.Cos(angle) - b * Math.Sin(angle)), (float)(b * Math.Cos(angle) + a * Math.Sin(angle))];

    [Fact]
    public void Interleaved_layout_rotates_adjacent_pairs()
    {
        var (x, cos, sin, rotary) = Setup(RotaryLayout.Interleaved);
        float[] pair0 = Rotate(1, 2, 2), pair1 = Rotate(3, 4, 0.2);
        var expected = new[] { pair0[0], pair0[1], pair1[0], pair1[1] };
        Assert.Equal(expected, rotary.Apply(x, cos, sin).data<float>().ToArray(), new FloatComparer(1e-5f));
    }

    [Fact]
    public void Half_layout_rotates_dims_half_a_head_apart()
    {
        var (x, cos, sin, rotary) = Setup(RotaryLayout.Half);
        float[] pair0 = Rotate(1, 3, 2), pair1 = Rotate(2, 4, 0.2);
        var expected = new[] { pair0[0], pair1[0], pair0[1], pair1[1] };
        Assert.Equal(expected, rotary.Apply(x, cos, sin).data<float>().ToArray(), new FloatComparer(1e-5f));
    }

    [Fact]
    public void Dims_beyond_the_rotary_dim_pass_through()
    {
        var rotary = new RotaryEmbedding(2, 100, RotaryLayout.Interleaved);
        var (cos, sin) = rotary.Angles(tensor(new long[] { 2 }).view(1, 1));
        var x = tensor(new float[] { 1, 2, 3, 4 }).view(1, 1, 1, 4);
        float[] pair0 = Rotate(1, 2, 2);
        Assert.Equal(new[] { pair0[0], pair0[1], 3f, 4f }, rotary.Apply(x, cos, sin).data<float>().ToArray(), new FloatComparer(1e-5f));
    }

    [Fact]
    public void Unscaled_inverse_frequencies_are_theta_to_the_minus_two_i_over_d()
    {
        Assert.Equal([1, 0.1, 0.01, 0.001], RotaryEmbedding.InverseFrequencies(8, 10000, null), new DoubleComparer(1e-12));
    }

    [Fact]
    public void Linear_scaling_divides_every_frequency_by_the_factor()
    {
        var linear = new RopeScaling { Type = RopeScalingType.Linear, Factor = 4 };
        Assert.Equal([0.25, 0.025, 0.0025, 0.00025], RotaryEmbedding.InverseFrequencies(8, 10000, linear), new DoubleComparer(1e-12));
    }

    [Fact]
    public void Llama3_scaling_keeps_high_frequencies_divides_low_ones_and_interpolates_between()
    {
        // Frequencies 1, 0.1, 0.01, 0.001 have wavelengths 2 pi / f = 6.28, 62.8, 628, 6283. With original context 1024,
        // high_freq_factor 4 and low_freq_factor 1 the kept band is below 1024 / 4 = 256 and the divided one above 1024 / 1.
        var llama3 = new RopeScaling { Type = RopeScalingType.Llama3, Factor = 8, LowFrequencyFactor = 1, HighFrequencyFactor = 4, OriginalMaxPositions = 1024 };
        // 628 lies between: s = (1024 / 628.3 - 1) / (4 - 1) = 0.20992; (1 - s) * 0.01 / 8 + s * 0.01 = 0.0030868.
        double s = (1024 / (200 * Math.PI) - 1) / 3;
        double[] expected = [1, 0.1, (1 - s) * 0.01 / 8 + s * 0.01, 0.001 / 8];
        Assert.Equal(0.0030868, expected[2], 7);
        Assert.Equal(expected, RotaryEmbedding.InverseFrequencies(8, 10000, llama3), new DoubleComparer(1e-12));
    }

    [Fact]
    public void The_embedding_rotates_by_the_scaled_frequencies()
    {
        // Linear factor 2 halves the angles: position 2 turns the pairs by 1 and 0.1 instead of 2 and 0.2.
        var rotary = new RotaryEmbedding(4, 100, RotaryLayout.Half, new RopeScaling { Type = RopeScalingType.Linear, Factor = 2 });
        var (cos, sin) = rotary.Angles(tensor(new long[] { 2 }).view(1, 1));
        var x = tensor(new float[] { 1, 2, 3, 4 }).view(1, 1, 1, 4);
        float[] pair0 = Rotate(1, 3, 1), pair1 = Rotate(2, 4, 0.1);
        Assert.Equal(new[] { pair0[0], pair1[0], pair0[1], pair1[1] }, rotary.Apply(x, cos, sin).data<float>().ToArray(), new FloatComparer(1e-5f));
    }
}

public sealed class DoubleComparer(double relativeTolerance) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => Math.Abs(x - y) <= relativeTolerance * Math.Max(Math.Abs(x), Math.Abs(y));
    public int GetHashCode(double obj) => 0;
}

public sealed class FloatComparer(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
    public int GetHashCode(float obj) => 0;
}
