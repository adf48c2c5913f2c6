using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>
/// Rotary position embeddings (Su et al., RoFormer). Each pair of dims (a, b) at position p is rotated by
/// the angle p * theta^(-2i/d): (a, b) -> (a cos - b sin, b cos + a sin). Only the first
/// <c>rotaryDim</c> dims of a head rotate; the rest pass through. A config's rope_scaling rescales the
/// inverse frequencies theta^(-2i/d) (<see cref="RopeScaling.Rescale"/>).
/// </summary>
internal sealed class RotaryEmbedding
{
    readonly Tensor _inverseFrequencies; // [rotaryDim / 2]
    readonly RotaryLayout _layout;
    readonly int _rotaryDim;

    public RotaryEmbedding(int rotaryDim, double theta, RotaryLayout layout, RopeScaling? scaling = null)
    {
        _rotaryDim = rotaryDim;
        _layout = layout;
        _inverseFrequencies = tensor(InverseFrequencies(rotaryDim, theta, scaling)).to(ScalarType.Float32);
    }

    /// <summary>theta^(-2i/d) for i = 0 .. d/2 - 1, rescaled by <paramref name="scaling"/> when there is one.</summary>
    public static double[] InverseFrequencies(int rotaryDim, double theta, RopeScaling? scaling)
    {
        var unscaled = Enumerable.Range(0, rotaryDim / 2).Select(i => Math.Pow(theta, -2.0 * i / rotaryDim)).ToArray();
        return scaling?.Rescale(unscaled) ?? unscaled;
    }

    /// <summary>cos and sin of the angles for each position: both [batch, 1, time, rotaryDim / 2].</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positionIds)
    {
        using var scope = NewDisposeScope();
        var angles = positionIds.to(ScalarType.Float32).unsqueeze(-1) * _inverseFrequencies; // [B, T, r/2]
        angles = angles.unsqueeze(1);
        return (angles.cos().MoveToOuterDisposeScope(), angles.sin().MoveToOuterDisposeScope());
    }

    /// <summary>Rotates x: [batch, heads, time, headDim].</summary>
    public Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long headDim = x.shape[^1];
        var rotated = x.narrow(-1, 0, _rotaryDim);
        Tensor first, second;
        if (_layout == RotaryLayout.Interleaved)
        {
            var pairs = rotated.unflatten(rotated.dim() - 1, [_rotaryDim / 2, 2]);
            first = pairs.select(-1, 0);
            second = pairs.select(-1, 1);
        }
        else
        {
            first = rotated.narrow(-1, 0, _rotaryDim / 2);
            second = rotated.narrow(-1, _rotaryDim / 2, _rotaryDim / 2);
        }
        var newFirst = first * cos - second * sin;
        var newSecond = second * cos + first * sin;
        var result = _layout == RotaryLayout.Interleaved
            ? stack([newFirst, newSecond], -1).flatten(-2)
            : cat([newFirst, newSecond], -1);
        if (_rotaryDim < headDim) result = cat([result, x.narrow(-1, _rotaryDim, headDim - _rotaryDim)], -1);
        return result.MoveToOuterDisposeScope();
    }
}
