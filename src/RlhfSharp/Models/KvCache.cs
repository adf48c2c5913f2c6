using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// Keys and values of every layer, preallocated to the full generation length and written in place,
/// so a decode step appends without reallocating or concatenating (per-token cost stays flat). Sliding-window layers
/// keep every position too (their attention is handed only the last window's), so left padding and position ids need
/// no bookkeeping beyond the mask; memory is the generation's length, not the window's.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor[] _keys;   // per layer [batch, kvHeads, capacity, headDim]
    readonly Tensor[] _values;

    public KvCache(ModelConfig config, long batchSize, long capacity, ScalarType dtype = ScalarType.Float32)
    {
        Capacity = capacity;
        _keys = new Tensor[config.NumLayers];
        _values = new Tensor[config.NumLayers];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            _keys[layer] = zeros([batchSize, config.NumKeyValueHeads, capacity, config.HeadDim], dtype);
            _values[layer] = zeros([batchSize, config.NumKeyValueHeads, capacity, config.HeadDim], dtype);
        }
    }

    /// <summary>Positions already filled (the "past" length).</summary>
    public long Length { get; private set; }

    public long Capacity { get; }

    /// <summary>Writes this step's keys/values [batch, kvHeads, time, headDim] for a layer after the filled
    /// positions and returns views of everything filled so far, the new positions included.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        long time = keys.shape[2];
        if (Length + time > Capacity)
            throw new InvalidOperationException($"KV cache overflow: {Length} + {time} exceeds capacity {Capacity}");
        _keys[layer].narrow(2, Length, time).copy_(keys);
        _values[layer].narrow(2, Length, time).copy_(values);
        return (_keys[layer].narrow(2, 0, Length + time), _values[layer].narrow(2, 0, Length + time));
    }

    /// <summary>A layer's whole key buffer [batch, kvHeads, capacity, headDim], for code that writes a step's keys in place itself
    /// (the fused batch-1 decode step) and then calls <see cref="Advance"/> as the trunk does.</summary>
    internal Tensor KeysOf(int layer) => _keys[layer];

    /// <summary>A layer's whole value buffer, as <see cref="KeysOf"/>.</summary>
    internal Tensor ValuesOf(int layer) => _values[layer];

    /// <summary>Marks <paramref name="time"/> more positions as filled; the trunk calls it after all layers.</summary>
    public void Advance(long time) => Length += time;

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t.Dispose();
    }
}
