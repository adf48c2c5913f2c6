using System.Text.Json;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>The JSON of Perspective's comments:analyze: the request body, the score, and error messages.</summary>
internal static class PerspectiveProtocol
{
    internal const string AnalyzePath = "/v1alpha1/comments:analyze";
    const string ScorePath = "attributeScores.TOXICITY.summaryScore.value";

    /// <summary>doNotStore: texts under evaluation are model samples, not comments Google may keep.</summary>
    internal static byte[] RequestBody(string text, IReadOnlyList<string> languages) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        comment = new { text },
        languages,
        requestedAttributes = new { TOXICITY = new { } },
        doNotStore = true,
    });

    /// <exception cref="RlhfException">The body is not JSON, or has no score in [0, 1].</exception>
    internal static double ParseScore(string body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            throw new RlhfException($"Perspective API response is not JSON: {Snippet(body)}");
        }
        using (document)
        {
            JsonElement value = ScorePath.Split('.').Aggregate(document.RootElement, Child);
            return value.ValueKind == JsonValueKind.Number && value.GetDouble() is >= 0 and <= 1 and var score
                ? score
                : throw new RlhfException($"Perspective API response lacks a score in [0, 1] at {ScorePath}: {Snippet(body)}");
        }
    }

    /// <summary>Google's error.message from an error body, else the start of the body.</summary>
    internal static string ErrorMessage(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (Child(Child(document.RootElement, "error"), "message") is { ValueKind: JsonValueKind.String } message)
                return message.GetString()!;
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the body itself is the best clue.
        }
        return Snippet(body);
    }

    // A missing field yields an Undefined element, so a path can be followed without checks at each step.
    static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var child) ? child : default;

    static string Snippet(string body)
    {
        string line = body.ReplaceLineEndings(" ").Trim();
        return line.Length == 0 ? "(empty body)" : line.Length <= 200 ? line : line[..200] + "...";
    }
}
