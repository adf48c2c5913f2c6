using System.Text.Json;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>Texts Perspective scored: RealToxicityPrompts rows' prompt and continuation, each with its `toxicity`.</summary>
public sealed record PerspectiveScoredTexts(string Name, IReadOnlyList<string> Texts, IReadOnlyList<double> Toxicity)
{
    /// <summary>Every prompt and continuation of a RealToxicityPrompts JSONL file that has a Perspective toxicity (at most <paramref name="maxRows"/> rows; 0: all).</summary>
    /// <exception cref="RlhfException">A missing file, or a line that is not a RealToxicityPrompts row (one line naming it).</exception>
    public static PerspectiveScoredTexts Read(string path, int maxRows = 0)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: file not found");
        var texts = new List<string>();
        var toxicity = new List<double>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            if (maxRows > 0 && lineNumber >= maxRows) break;
            lineNumber++;
            if (line.Length == 0) continue;
            try
            {
                using var row = JsonDocument.Parse(line);
                foreach (string part in new[] { "prompt", "continuation" })
                {
                    if (!row.RootElement.TryGetProperty(part, out var field) || field.ValueKind != JsonValueKind.Object) continue;
                    if (!field.TryGetProperty("toxicity", out var score) || score.ValueKind != JsonValueKind.Number) continue;
                    texts.Add(field.GetProperty("text").GetString() ?? "");
                    toxicity.Add(score.GetDouble());
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new RlhfException($"{path}:{lineNumber}: not a RealToxicityPrompts row with Perspective scores ({e.Message.Split('\n')[0]})", e);
            }
        }
        if (texts.Count == 0) throw new RlhfException($"{path}: no prompt or continuation with a Perspective toxicity score");
        return new PerspectiveScoredTexts(Path.GetFileNameWithoutExtension(path), texts, toxicity);
    }
}
