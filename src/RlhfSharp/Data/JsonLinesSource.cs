using System.IO.Compression;
using System.Text.Json;

namespace RlhfSharp.Data;

/// <summary>Streams the records of a JSON Lines file, plain or gzip-compressed, one object a line; blank lines are ignored.</summary>
internal static class JsonLinesSource
{
    public static IEnumerable<DataRow> Read(string path, bool gzip)
    {
        int lineNumber = 0;
        foreach (string line in Lines(path, gzip))
        {
            lineNumber++;
            if (!string.IsNullOrWhiteSpace(line)) yield return Parse($"{path}:{lineNumber}", line);
        }
    }

    /// <summary>Every line of the file, blank ones included (so callers can count line numbers).</summary>
    public static IEnumerable<string> Lines(string path, bool gzip)
    {
        using var file = File.OpenRead(path);
        using Stream input = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(input);
        while (ReadLine(reader, path) is { } line) yield return line;
    }

    static string? ReadLine(StreamReader reader, string path)
    {
        try
        {
            return reader.ReadLine();
        }
        catch (InvalidDataException e)
        {
            throw new RlhfException($"{path}: corrupt gzip data ({e.Message.ReplaceLineEndings(" ")})", e);
        }
    }

    static DataRow Parse(string location, string line)
    {
        JsonElement record;
        try
        {
            record = JsonSerializer.Deserialize<JsonElement>(line); // a self-contained copy: no document to dispose
        }
        catch (JsonException e)
        {
            return DataRow.Unreadable(location, $"malformed JSON ({e.Message.ReplaceLineEndings(" ")})");
        }
        if (record.ValueKind != JsonValueKind.Object) return DataRow.Unreadable(location, $"expected a JSON object, found {record.ValueKind}");

        var fields = new Dictionary<string, object?>();
        foreach (var property in record.EnumerateObject()) fields[property.Name] = property.Value;
        return DataRow.Readable(location, fields);
    }
}
