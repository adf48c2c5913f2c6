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
}

public sealed class FloatComparer(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
    public int GetHashCode(float obj) => 0;
}
