using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;

using RlhfSharp.IO;

namespace RlhfSharp.Models.Checkpoints;

internal static partial class SafetensorsFile
{
    /// <summary>
    /// Writes the tensors, in order, as one safetensors file through a temporary file renamed over
    /// <paramref name="path"/>. Tensors may live on any device and need not be contiguous.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        List<KeyValuePair<string, torch.Tensor>> list = tensors.ToList();
        byte[] header = BuildHeader(list, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach ((_, torch.Tensor tensor) in list)
            {
                // One tensor at a time, so saving a GPU model never holds a full CPU copy.
                using var scope = torch.NewDisposeScope();
                torch.Tensor data = tensor.detach().cpu().contiguous();
                TensorMemory.Write(stream, data, StoredBytes(tensor));
            }
        });
    }

    /// <summary>The bytes a tensor takes in a file (element count times element size).</summary>
    internal static long StoredBytes(torch.Tensor tensor) => tensor.NumberOfElements * SafetensorsDType.Size(tensor.dtype);

    /// <summary>The header JSON, padded with spaces to a multiple of 8 bytes as the reference writer does.</summary>
    static byte[] BuildHeader(List<KeyValuePair<string, torch.Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach ((string key, string value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            var names = new HashSet<string>(StringComparer.Ordinal) { "__metadata__" };
            long offset = 0;
            foreach ((string name, torch.Tensor tensor) in tensors)
            {
                if (!names.Add(name)) throw new ArgumentException($"tensor name {Quote(name)} is used twice or reserved", nameof(tensors));
                string dtype = SafetensorsDType.NameOf(tensor.dtype)
                    ?? throw new ArgumentException($"tensor {Quote(name)} has dtype {tensor.dtype}, which safetensors files here do not support", nameof(tensors));
                long end = offset + StoredBytes(tensor);
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (long dim in tensor.shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
