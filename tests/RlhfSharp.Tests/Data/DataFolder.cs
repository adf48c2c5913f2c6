using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Tests.Data;

/// <summary>A throw-away folder for data files; deleted on dispose.</summary>
public sealed class DataFolder : IDisposable
{
    public string Path { get; } = TestPaths.NewTempDirectory("rlhf-data");

    public string At(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes the lines as given, each followed by "\n".</summary>
    public string WriteLines(string name, params string[] lines)
    {
        string path = At(name);
        File.WriteAllText(path, string.Concat(lines.Select(line => line + "\n")));
        return path;
    }

    /// <summary>One JSON object a line.</summary>
    public string WriteJsonLines(string name, params JsonNode[] records) =>
        WriteLines(name, [.. records.Select(r => r.ToJsonString())]);

    public string WriteGzip(string name, byte[] content)
    {
        string path = At(name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
        return path;
    }

    public string WriteGzip(string name, string text) => WriteGzip(name, Encoding.UTF8.GetBytes(text));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
