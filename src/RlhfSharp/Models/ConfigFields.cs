using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Models;

/// <summary>Typed reads of config.json fields with one-line errors naming the file and field.</summary>
internal sealed class ConfigFields(JsonObject json, string path)
{
    public int Int(string name) => OptionalInt(name) ?? throw Missing(name);

    public int? OptionalInt(string name)
    {
        JsonNode? node = json[name];
        if (node is null) return null;
        // eos_token_id may be a list in newer configs; the first id is the one generation stops on by default.
        if (node is JsonArray list) return list.Count == 0 ? null : Read(name, list[0], n => n.GetValue<int>());
        return Read(name, node, n => n.GetValue<int>());
    }

    public double Double(string name, double fallback) => OptionalDouble(name) ?? fallback;

    public double? OptionalDouble(string name) => json[name] is { } node ? Read(name, node, n => n.GetValue<double>()) : null;

    public bool Bool(string name, bool fallback) => json[name] is { } node ? Read(name, node, n => n.GetValue<bool>()) : fallback;

    public string? String(string name) => json[name] is { } node ? Read(name, node, n => n.GetValue<string>()) : null;

    public void RejectNonNull(string name, string why)
    {
        if (json[name] is not null) throw new CheckpointException($"{path}: field '{name}': {why}");
    }

    CheckpointException Missing(string name) => new($"{path}: field '{name}' is missing");

    T Read<T>(string name, JsonNode? node, Func<JsonNode, T> read)
    {
        try
        {
            return read(node!);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or NullReferenceException)
        {
            throw new CheckpointException($"{path}: field '{name}': expected a {typeof(T).Name.ToLowerInvariant()}, found {node?.ToJsonString() ?? "null"}");
        }
    }
}
