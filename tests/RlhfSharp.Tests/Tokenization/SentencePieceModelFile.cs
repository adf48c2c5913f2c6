using System.Text;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>
/// A minimal Llama-like SentencePiece BPE model (sentencepiece_model.proto), written in protobuf wire format by hand
/// because no real tokenizer.model can be downloaded here. Field numbers: ModelProto 1 = pieces {1 piece, 2 score,
/// 3 type}, 2 = trainer_spec {3 model_type, 35 byte_fallback, 40..43 unk/bos/eos/pad ids}, 3 = normalizer_spec
/// {1 name, 3 add_dummy_prefix, 4 remove_extra_whitespaces, 5 escape_whitespaces}.
/// </summary>
public static class SentencePieceModelFile
{
    const int Normal = 1, Unknown = 2, Control = 3, Byte = 6;
    const int Bpe = 2;

    /// <summary>Words the model knows whole, best merge first; other text falls back to byte pieces.</summary>
    public static readonly string[] Words = ["▁hello", "▁world", "▁he", "llo", "▁wor", "ld", "▁h", "ll", "or", "▁w", "▁", "h", "e", "l", "o", "w", "r", "d"];

    /// <summary>Ids: 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, 3..258 bytes &lt;0x00&gt;..&lt;0xFF&gt;, then <see cref="Words"/>.</summary>
    public static int IdOf(string word) => 3 + 256 + Array.IndexOf(Words, word);

    public const int VocabularySize = 3 + 256 + 18;

    public static byte[] Build()
    {
        var pieces = new List<(string Piece, float Score, int Type)> { ("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control) };
        pieces.AddRange(Enumerable.Range(0, 256).Select(b => ($"<0x{b:X2}>", 0f, Byte)));
        pieces.AddRange(Words.Select((word, rank) => (word, (float)-rank, Normal)));   // BPE merges by higher score first

        var model = new MemoryStream();
        foreach (var (piece, score, type) in pieces)
        {
            var message = new MemoryStream();
            WriteBytes(message, 1, Encoding.UTF8.GetBytes(piece));
            WriteTag(message, 2, wireType: 5);
            message.Write(BitConverter.GetBytes(score));   // little-endian fixed32, as protobuf wants
            WriteInt(message, 3, type);
            WriteBytes(model, 1, message.ToArray());
        }

        var trainer = new MemoryStream();
        WriteInt(trainer, 3, Bpe);
        WriteInt(trainer, 35, 1);   // byte_fallback
        WriteInt(trainer, 40, 0);   // unk_id
        WriteInt(trainer, 41, 1);   // bos_id
        WriteInt(trainer, 42, 2);   // eos_id
        WriteInt(trainer, 43, -1);  // pad_id: none, as in Llama
        WriteBytes(model, 2, trainer.ToArray());

        var normalizer = new MemoryStream();
        WriteBytes(normalizer, 1, Encoding.UTF8.GetBytes("identity"));
        WriteInt(normalizer, 3, 1);   // add_dummy_prefix
        WriteInt(normalizer, 4, 0);   // remove_extra_whitespaces
        WriteInt(normalizer, 5, 1);   // escape_whitespaces
        WriteBytes(model, 3, normalizer.ToArray());
        return model.ToArray();
    }

    static void WriteTag(Stream stream, int field, int wireType) => WriteVarint(stream, (ulong)((field << 3) | wireType));

    static void WriteInt(Stream stream, int field, long value)
    {
        WriteTag(stream, field, wireType: 0);
        WriteVarint(stream, (ulong)value);   // negative int32 values take 10 bytes, as in protobuf
    }

    static void WriteBytes(Stream stream, int field, byte[] bytes)
    {
        WriteTag(stream, field, wireType: 2);
        WriteVarint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    static void WriteVarint(Stream stream, ulong value)
    {
        for (; value >= 0x80; value >>= 7) stream.WriteByte((byte)(value | 0x80));
        stream.WriteByte((byte)value);
    }
}
