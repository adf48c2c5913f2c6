using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Models;

/// <summary>Typed reads of config.json fields with one-line errors naming the file and field
/// (a nested object's fields are named with its own, as in 'rope_scaling.factor').</summary>
internal sealed class ConfigFields(JsonObject json, string path, string prefix = "")
{
    public int Int(string name) => OptionalInt(name) ?? throw Missing(name);

    public int? OptionalInt(string name)
    {
        JsonNode? node = json[name];
        if (node is null) return null;
        // eos_token_id may be a list in newer configs; the first id is the one generation stops on by default.
        if (node is JsonArray list) return list.Count == 0 ? null : Read(name, list[0], e => e.GetInt32());
        return Read(name, node, e => e.GetInt32());
    }

    /// <summary>An id or a list of ids (eos_token_id of Llama 3.x: [128001, 128008, 128009]); none when missing or null.</summary>
    public IReadOnlyList<int> IntList(string name) => json[name] switch
    {
        null => [],
        JsonArray list => list.Select(item => Read(name, item, e => e.GetInt32())).ToList(),
        var node => [Read(name, node, e => e.GetInt32())],
    };

    public double Double(string name, double fallback) => OptionalDouble(name) ?? fallback;

    public double RequiredDouble(string name) => OptionalDouble(name) ?? throw Missing(name);

    public double? OptionalDouble(string name) => json[name] is { } node ? Read(name, node, e => e.GetDouble()) : null;

    public bool Bool(string name, bool fallback) => json[name] is { } node ? Read(name, node, e => e.GetBoolean()) : fallback;

    public string? String(string name) => json[name] is { } node ? Read(name, node, e => e.GetString()!) : null;

    /// <summary>A nested object field (null when absent or null).</summary>
    public ConfigFields? Object(string name) => json[name] switch
    {
        null => null,
        JsonObject nested => new ConfigFields(nested, path, $"{prefix}{name}."),
        var other => throw Invalid(name, $"expected an object, found {other.ToJsonString()}"),
    };

    /// <summary>Whether the field is written at all: an explicit null says "none", which may differ from the default.</summary>
    public bool Has(string name) => json.ContainsKey(name);

    public CheckpointException Invalid(string name, string why) => new($"{path}: field '{prefix}{name}': {why}");

    CheckpointException Missing(string name) => new($"{path}: field '{prefix}{name}' is missing");

    /// <summary>The JSON a field of type <typeparamref name="T"/> must hold, in words for the error.</summary>
    static string JsonKind<T>() => typeof(T) == typeof(int) ? "an integer"
        : typeof(T) == typeof(double) ? "a number"
        : typeof(T) == typeof(bool) ? "true or false"
        : typeof(T) == typeof(string) ? "a string"
        : $"a {typeof(T).Name}";

    // Through JsonElement so that parsed and built-in-code nodes read alike (an int node reads as a double).
    T Read<T>(string name, JsonNode? node, Func<JsonElement, T> read)
    {
        try
        {
            using var document = JsonDocument.Parse(node?.ToJsonString() ?? "null");
            return read(document.RootElement);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or NullReferenceException)
        {
            throw Invalid(name, $"expected {JsonKind<T>()}, found {node?.ToJsonString() ?? "null"}");
        }
    }
}
