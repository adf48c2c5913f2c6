using System.Text.Json;

namespace RlhfSharp.Tokenization;

/// <summary>Reading tokenizer files with one-line errors that name the file and field.</summary>
internal static class TokenizerFile
{
    internal static RlhfException Error(string path, string field, string problem) => new($"{path}: {field} {problem}");

    internal static JsonElement ReadJson(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new RlhfException($"{path}: malformed JSON ({e.Message.ReplaceLineEndings(" ")})", e);
        }
    }

    /// <summary>The JSON file in <paramref name="dir"/>, or null when it does not exist.</summary>
    internal static (string Path, JsonElement Root)? ReadJsonIfExists(string dir, string name)
    {
        string path = Path.Combine(dir, name);
        return File.Exists(path) ? (path, ReadJson(path)) : null;
    }

    /// <summary>An object's field; null when the element is not an object, or the field is missing or JSON null.</summary>
    internal static JsonElement? Field(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    internal static string? StringField(JsonElement obj, string name) =>
        Field(obj, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    /// <summary>
    /// Runs a library constructor on file data. The library reports bad data with assorted exception types (protobuf's
    /// IOException, InvalidOperationException for a merge of unknown tokens, NullReferenceException for an empty
    /// SentencePiece model); they become one-line user errors naming <paramref name="source"/>.
    /// </summary>
    internal static T Build<T>(string source, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new RlhfException($"{source}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }
}
