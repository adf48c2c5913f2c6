namespace RlhfSharp.Models.Checkpoints;

/// <summary>
/// One tensor of a safetensors header. <see cref="Begin"/> and <see cref="End"/> are the raw data_offsets:
/// byte offsets relative to the start of the data buffer (8 + header length), not to the file.
/// </summary>
internal sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}
