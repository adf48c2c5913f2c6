using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;

namespace RlhfSharp.Models.Checkpoints;

/// <summary>
/// Reads and writes Hugging Face safetensors files: an 8-byte little-endian header length N, N bytes of
/// UTF-8 JSON describing each tensor, then the data buffer. Every length and offset in a file is checked
/// before it is used, so a bad or truncated file gives a one-line <see cref="CheckpointException"/>.
/// </summary>
internal static partial class SafetensorsFile
{
    /// <summary>Real headers are kilobytes to a few MB; a larger claim means a corrupt or foreign file.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static SafetensorsHeader ReadHeader(string path)
    {
        using SafeFileHandle file = OpenRead(path);
        long dataStart = ReadDataStart(path, file);
        byte[] json = new byte[dataStart - 8]; // bounded by MaxHeaderBytes and the file size
        if (!TryReadExactly(file, json, 8)) throw Error(path, "file ended while reading the header");
        return ParseHeader(path, json, RandomAccess.GetLength(file) - dataStart);
    }

    static SafeFileHandle OpenRead(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Error(path, "file does not exist");
        }
        catch (UnauthorizedAccessException e)
        {
            throw Error(path, OneLine(e.Message), e);
        }
    }

    /// <summary>Validates the header length against the file and returns where the data buffer starts.</summary>
    static long ReadDataStart(string path, SafeFileHandle file)
    {
        long fileLength = RandomAccess.GetLength(file);
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || !TryReadExactly(file, prefix, 0))
            throw Error(path, $"file is {fileLength} bytes, too short for the 8-byte header length (not a safetensors file?)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw Error(path, $"header length {headerLength} exceeds the {MaxHeaderBytes / 1_000_000} MB limit (not a safetensors file?)");
        if ((long)headerLength > fileLength - 8)
            throw Error(path, $"header length {headerLength} exceeds the file size {fileLength} (truncated file?)");
        return 8 + (long)headerLength;
    }

    static SafetensorsHeader ParseHeader(string path, byte[] json, long dataSize)
    {
        if (!Utf8.IsValid(json)) throw Error(path, "header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw Error(path, $"header is not valid JSON: {OneLine(e.Message)}", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Error(path, $"header is a JSON {root.ValueKind}, not an object");
            var tensors = new OrderedDictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                SafetensorsEntry entry = ParseEntry(path, property);
                ValidateEntry(path, entry, dataSize);
                if (!tensors.TryAdd(entry.Name, entry)) throw TensorError(path, entry.Name, "appears twice in the header");
            }
            CheckNoOverlap(path, tensors.Values);
            return new SafetensorsHeader(new ReadOnlyDictionary<string, SafetensorsEntry>(tensors), metadata.AsReadOnly());
        }
    }

    static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Error(path, "__metadata__ is not a JSON object");
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Error(path, $"__metadata__ value {Quote(item.Name)} is a JSON {item.Value.ValueKind}, not a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    static SafetensorsEntry ParseEntry(string path, JsonProperty property)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw TensorError(path, name, "entry is not a JSON object");
        if (!value.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind != JsonValueKind.String)
            throw TensorError(path, name, "has no \"dtype\" string");
        long[] shape = ReadIntegers(path, name, value, "shape");
        long[] offsets = ReadIntegers(path, name, value, "data_offsets");
        if (offsets.Length != 2) throw TensorError(path, name, $"data_offsets has {offsets.Length} values, expected 2");
        return new SafetensorsEntry(name, dtype.GetString()!, shape, offsets[0], offsets[1]);
    }

    static long[] ReadIntegers(string path, string name, JsonElement entry, string key)
    {
        if (!entry.TryGetProperty(key, out JsonElement array) || array.ValueKind != JsonValueKind.Array)
            throw TensorError(path, name, $"has no \"{key}\" array");
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out values[i++]))
                throw TensorError(path, name, $"\"{key}\" holds {item.GetRawText()}, not a 64-bit integer");
        return values;
    }

    /// <summary>Checks an entry against the format rules and the data buffer size; also used before every load.</summary>
    static void ValidateEntry(string path, SafetensorsEntry entry, long dataSize)
    {
        string offsets = $"data_offsets [{entry.Begin}, {entry.End}]";
        if (SafetensorsDType.Parse(entry.DType) is not { } type)
            throw TensorError(path, entry.Name, $"unknown dtype {Quote(entry.DType)} (supported: {SafetensorsDType.Supported})");
        if (entry.Shape.Any(dim => dim < 0))
            throw TensorError(path, entry.Name, $"shape {FormatShape(entry.Shape)} has a negative dimension");
        if (entry.Begin < 0 || entry.End < entry.Begin)
            throw TensorError(path, entry.Name, $"{offsets} are not a valid range (end before begin?)");
        long? expected = ByteLength(entry.Shape, type);
        if (expected != entry.ByteLength)
            throw TensorError(path, entry.Name, $"{offsets} hold {entry.ByteLength} bytes but shape {FormatShape(entry.Shape)} of {entry.DType} needs {expected?.ToString() ?? "more than 2^63"}");
        if (entry.End > dataSize)
            throw TensorError(path, entry.Name, $"{offsets} exceed the file's data size {dataSize} (truncated file?)");
    }

    /// <summary>product(shape) * element size, or null when it does not fit in a long.</summary>
    static long? ByteLength(long[] shape, TorchSharp.torch.ScalarType type)
    {
        if (shape.Contains(0)) return 0;
        try
        {
            long bytes = SafetensorsDType.Size(type);
            foreach (long dim in shape) bytes = checked(bytes * dim);
            return bytes;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    static void CheckNoOverlap(string path, IEnumerable<SafetensorsEntry> entries)
    {
        SafetensorsEntry? previous = null;
        foreach (SafetensorsEntry entry in entries.Where(e => e.ByteLength > 0).OrderBy(e => e.Begin))
        {
            if (previous != null && entry.Begin < previous.End)
                throw TensorError(path, entry.Name, $"data_offsets [{entry.Begin}, {entry.End}] overlap tensor {Quote(previous.Name)} at [{previous.Begin}, {previous.End}]");
            previous = entry;
        }
    }

    static bool TryReadExactly(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        for (int done = 0; done < buffer.Length;)
        {
            int read = RandomAccess.Read(file, buffer[done..], offset + done);
            if (read == 0) return false;
            done += read;
        }
        return true;
    }

    static CheckpointException Error(string path, string message, Exception? inner = null) => new($"{path}: {message}", inner);

    static CheckpointException TensorError(string path, string name, string message) => Error(path, $"tensor {Quote(name)}: {message}");

    /// <summary>Names come from untrusted files; control characters would break the one-line message.</summary>
    internal static string Quote(string name) =>
        "'" + string.Concat(name.Select(c => char.IsControl(c) ? '?' : c)) + "'";

    static string OneLine(string message) => message.ReplaceLineEndings(" ");

    static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
