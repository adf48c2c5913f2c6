using System.IO.Compression;
using System.Text.Json;

namespace RlhfSharp.Tests.Data;

/// <summary>The real Anthropic HH-RLHF test splits in ../shared/data, and their raw rows read independently of the reader.</summary>
public static class HhRlhfFiles
{
    public static string Path(string subset) => TestPaths.Shared("hh-rlhf", subset, "test.jsonl.gz");

    public static byte[] Decompressed(string subset)
    {
        using var gzip = new GZipStream(File.OpenRead(Path(subset)), CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        gzip.CopyTo(bytes);
        return bytes.ToArray();
    }

    public static List<(string Chosen, string Rejected)> RawRows(string subset)
    {
        using var reader = new StreamReader(new MemoryStream(Decompressed(subset)));
        var rows = new List<(string, string)>();
        while (reader.ReadLine() is { } line)
        {
            using var row = JsonDocument.Parse(line);
            rows.Add((row.RootElement.GetProperty("chosen").GetString()!, row.RootElement.GetProperty("rejected").GetString()!));
        }
        return rows;
    }
}
