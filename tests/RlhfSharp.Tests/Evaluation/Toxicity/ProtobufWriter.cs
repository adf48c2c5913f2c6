using System.Text;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

/// <summary>
/// Just enough of the protobuf wire format to write an ONNX model by hand: varint fields (wire type 0) and
/// length-delimited fields (wire type 2: strings, bytes, nested messages).
/// </summary>
internal sealed class ProtobufWriter
{
    readonly MemoryStream _stream = new();

    public ProtobufWriter Int(int field, long value)
    {
        Varint((ulong)field << 3);
        Varint((ulong)value);   // negative int64 values take ten bytes, as protobuf writes them
        return this;
    }

    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtobufWriter Message(int field, Action<ProtobufWriter> write)
    {
        var message = new ProtobufWriter();
        write(message);
        return Bytes(field, message.ToArray());
    }

    public ProtobufWriter Bytes(int field, byte[] value)
    {
        Varint(((ulong)field << 3) | 2);
        Varint((ulong)value.Length);
        _stream.Write(value);
        return this;
    }

    public byte[] ToArray() => _stream.ToArray();

    void Varint(ulong value)
    {
        for (; value >= 0x80; value >>= 7) _stream.WriteByte((byte)(value | 0x80));
        _stream.WriteByte((byte)value);
    }
}
