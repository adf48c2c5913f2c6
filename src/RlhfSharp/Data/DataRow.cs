using System.Text.Json;

namespace RlhfSharp.Data;

/// <summary>
/// One record of a data file: its location for messages ("file:line" or "file:row N") and its top-level fields, each a
/// <see cref="JsonElement"/> (JSONL) or a string, bool or null (Parquet). A record that could not be read at all (malformed
/// JSON) carries the reason instead, and any access to its fields reports it as a bad row.
/// </summary>
internal sealed class DataRow
{
    readonly IReadOnlyDictionary<string, object?>? _fields;
    readonly string? _unreadable;

    DataRow(string location, IReadOnlyDictionary<string, object?>? fields, string? unreadable)
    {
        Location = location;
        _fields = fields;
        _unreadable = unreadable;
    }

    public static DataRow Readable(string location, IReadOnlyDictionary<string, object?> fields) => new(location, fields, null);

    public static DataRow Unreadable(string location, string reason) => new(location, null, reason);

    public string Location { get; }

    public IReadOnlyCollection<string> FieldNames => Fields.Keys.ToList();

    IReadOnlyDictionary<string, object?> Fields => _fields ?? throw new BadRowException(_unreadable!);

    /// <summary>A string field; missing, null or of another type is a bad row.</summary>
    public string Text(string field) => Value(field) switch
    {
        string text => text,
        JsonElement { ValueKind: JsonValueKind.String } json => json.GetString()!,
        _ => throw new BadRowException($"field \"{field}\" is not a string"),
    };

    /// <summary>A JSON object field, or null when the field holds anything else or is missing.</summary>
    public JsonElement? Object(string field) =>
        Fields.TryGetValue(field, out object? value) && value is JsonElement { ValueKind: JsonValueKind.Object } json ? json : null;

    /// <summary>An optional true/false field: missing or null is false; any other value is a bad row.</summary>
    public bool Flag(string field) => Fields.TryGetValue(field, out object? value) && value switch
    {
        null or JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.False } => false,
        JsonElement { ValueKind: JsonValueKind.True } => true,
        bool flag => flag,
        _ => throw new BadRowException($"field \"{field}\" is not true or false"),
    };

    /// <summary>A JSON array field; missing, null or of another type is a bad row.</summary>
    public JsonElement Array(string field) =>
        Value(field) is JsonElement { ValueKind: JsonValueKind.Array } json ? json : throw new BadRowException($"field \"{field}\" is not a list");

    /// <summary>Whether the field holds a JSON array (a chat's messages rather than text).</summary>
    public bool IsList(string field) => Fields.TryGetValue(field, out object? value) && value is JsonElement { ValueKind: JsonValueKind.Array };

    /// <summary>
    /// The fields holding one value (text, a number, true or false), as text (numbers as written in the file), except the
    /// named ones; lists, objects and nulls are left out.
    /// </summary>
    public IReadOnlyDictionary<string, string> ScalarFields(IReadOnlyCollection<string> except)
    {
        var fields = new Dictionary<string, string>();
        foreach (var (name, value) in Fields)
        {
            if (except.Contains(name)) continue;
            string? text = value switch
            {
                string s => s,
                bool b => b ? "true" : "false",
                JsonElement { ValueKind: JsonValueKind.String } json => json.GetString(),
                JsonElement { ValueKind: JsonValueKind.Number } json => json.GetRawText(),
                JsonElement { ValueKind: JsonValueKind.True } => "true",
                JsonElement { ValueKind: JsonValueKind.False } => "false",
                IFormattable number => number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => null,
            };
            if (text is not null) fields[name] = text;
        }
        return fields;
    }

    object Value(string field) =>
        Fields.TryGetValue(field, out object? value) && value is not (null or JsonElement { ValueKind: JsonValueKind.Null })
            ? value
            : throw new BadRowException($"missing field \"{field}\"");
}
