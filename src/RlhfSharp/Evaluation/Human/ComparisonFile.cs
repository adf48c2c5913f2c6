using System.Text.Json;
using RlhfSharp.IO;

namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// Comparisons as JSON Lines, one object a line with the fields id, prompt, response_a, response_b, model_a, model_b.
/// The id may be left out on reading: it is then the row's 1-based line number. Blank lines are ignored.
/// </summary>
public static class ComparisonFile
{
    static readonly JsonSerializerOptions RowJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <exception cref="RlhfException">A missing file, or "file:line: why" for a malformed row, a missing field or a repeated id.</exception>
    public static IReadOnlyList<Comparison> Read(string path)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: no such file");
        var comparisons = new List<Comparison>();
        var firstLineOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var comparison = Parse(line, lineNumber, $"{path}:{lineNumber}");
            if (!firstLineOfId.TryAdd(comparison.Id, lineNumber))
                throw new RlhfException($"{path}:{lineNumber}: duplicate id \"{comparison.Id}\" (first on line {firstLineOfId[comparison.Id]})");
            comparisons.Add(comparison);
        }
        return comparisons;
    }

    public static void Write(string path, IEnumerable<Comparison> comparisons) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, leaveOpen: true);
        foreach (var comparison in comparisons) writer.Write(JsonSerializer.Serialize(comparison, RowJson) + "\n");
    });

    static Comparison Parse(string line, int lineNumber, string location)
    {
        JsonElement row;
        try
        {
            row = JsonSerializer.Deserialize<JsonElement>(line);
        }
        catch (JsonException e)
        {
            throw new RlhfException($"{location}: malformed JSON ({e.Message.ReplaceLineEndings(" ")})", e);
        }
        if (row.ValueKind != JsonValueKind.Object) throw new RlhfException($"{location}: expected a JSON object, found {row.ValueKind}");
        return new Comparison(
            Id(row, lineNumber, location),
            Text(row, "prompt", location), Text(row, "response_a", location), Text(row, "response_b", location),
            Text(row, "model_a", location), Text(row, "model_b", location));
    }

    static string Id(JsonElement row, int lineNumber, string location)
    {
        if (!row.TryGetProperty("id", out var id) || id.ValueKind == JsonValueKind.Null) return lineNumber.ToString();
        string text = id.ValueKind switch
        {
            JsonValueKind.String => id.GetString()!,
            JsonValueKind.Number => id.GetRawText(), // numeric ids are common; keep their digits as written
            _ => throw new RlhfException($"{location}: \"id\" must be a string or a number, found {id.ValueKind}"),
        };
        return text.Length > 0 ? text : throw new RlhfException($"{location}: \"id\" is empty");
    }

    static string Text(JsonElement row, string field, string location)
    {
        if (!row.TryGetProperty(field, out var value)) throw new RlhfException($"{location}: missing \"{field}\"");
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new RlhfException($"{location}: \"{field}\" must be a string, found {value.ValueKind}");
    }
}
