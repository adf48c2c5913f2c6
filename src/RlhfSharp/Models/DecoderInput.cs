using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// One forward pass's input. Shapes: <see cref="InputIds"/> [batch, time] int64;
/// <see cref="AttentionMask"/> [batch, past + time], 1 for real tokens and 0 for padding (left padding
/// in generation); <see cref="PositionIds"/> [batch, time]. Without a mask every token is real; without
/// position ids they are derived from the mask, so a left-padded row numbers its first real token 0.
/// <see cref="DocumentIds"/> [batch, time] int64 marks packed rows (several sequences laid end to end in one row): a token
/// reads only earlier tokens of its own document, so each document's output is what it would be alone, provided
/// <see cref="PositionIds"/> (then required) restart at each document's first token. Packed passes take no cache.
/// </summary>
public sealed record DecoderInput(Tensor InputIds, Tensor? AttentionMask = null, Tensor? PositionIds = null, KvCache? Cache = null, Tensor? DocumentIds = null);

/// <summary>
/// What every layer of one forward pass shares: the keys its queries read (<see cref="Keys"/> in full-attention
/// layers, <see cref="WindowedKeys"/> in sliding-window ones; each null when no layer of the model reads it), the
/// rotary angles and the cache.
/// </summary>
internal sealed record AttentionContext(KeyMask? Keys, KeyMask? WindowedKeys, Tensor? RotaryCos, Tensor? RotarySin, KvCache? Cache)
{
    /// <summary>The keys a layer with <paramref name="window"/> (null: full attention) reads.</summary>
    public KeyMask For(int? window) => (window is null ? Keys : WindowedKeys)
        ?? throw new InvalidOperationException($"no {(window is null ? "full-attention" : "windowed")} mask was built for this layer");

    /// <summary>The tensors this context holds (masks and rotary angles, null where absent), in the order <see cref="WithTensors"/> takes them.</summary>
    public Tensor?[] Tensors => [Keys?.AllowedKeys, WindowedKeys?.AllowedKeys, RotaryCos, RotarySin];

    /// <summary>This context holding <paramref name="tensors"/> (as <see cref="Tensors"/> lists them) instead of its own.</summary>
    public AttentionContext WithTensors(IReadOnlyList<Tensor?> tensors) => this with
    {
        Keys = Keys is null ? null : Keys with { AllowedKeys = tensors[0] },
        WindowedKeys = WindowedKeys is null ? null : WindowedKeys with { AllowedKeys = tensors[1] },
        RotaryCos = tensors[2],
        RotarySin = tensors[3],
    };
}

/// <summary>
/// Which keys the queries of one pass read: the keys from <see cref="FirstKey"/> on (earlier ones lie outside every
/// query's window and are not handed to attention at all), masked by <see cref="AllowedKeys"/> [batch, 1, time, keys].
/// Without padding, and where the causal rule says it all, no mask is built: <see cref="AllowedKeys"/> is null and
/// <see cref="Causal"/> says whether queries see only the keys up to themselves (a pass from the start) or every key
/// handed over (one new token per row after a cache of real tokens). The fused attention kernels take that path; an
/// explicit mask forces the generic one.
/// </summary>
internal sealed record KeyMask(Tensor? AllowedKeys, bool Causal, long FirstKey);
