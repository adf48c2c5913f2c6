using System.Text.Json.Nodes;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>A throw-away model folder; deleted on dispose.</summary>
public sealed class TempModelDirectory : IDisposable
{
    public string Path { get; } = TestPaths.NewTempDirectory("rlhf-tokenizer");

    public string Write(string name, string text)
    {
        string path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    public string Write(string name, JsonNode json) => Write(name, json.ToJsonString());

    public string Write(string name, byte[] bytes)
    {
        string path = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
