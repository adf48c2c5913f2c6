using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// One forward pass's input. Shapes: <see cref="InputIds"/> [batch, time] int64;
/// <see cref="AttentionMask"/> [batch, past + time], 1 for real tokens and 0 for padding (left padding
/// in generation); <see cref="PositionIds"/> [batch, time]. Without a mask every token is real; without
/// position ids they are derived from the mask, so a left-padded row numbers its first real token 0.
/// </summary>
public sealed record DecoderInput(Tensor InputIds, Tensor? AttentionMask = null, Tensor? PositionIds = null, KvCache? Cache = null);

/// <summary>
/// What every layer of one forward pass shares: the attention mask and the rotary angles. Without padding no
/// mask is built: <see cref="AllowedKeys"/> is null and <see cref="Causal"/> says whether queries see only the
/// keys up to themselves (a pass from the start) or every key (new tokens after a cache of real tokens need no mask
/// when there is one per row). The fused attention kernels take that path; an explicit mask forces the generic one.
/// </summary>
internal sealed record AttentionContext(Tensor? AllowedKeys, Tensor? RotaryCos, Tensor? RotarySin, KvCache? Cache, bool Causal = false);
