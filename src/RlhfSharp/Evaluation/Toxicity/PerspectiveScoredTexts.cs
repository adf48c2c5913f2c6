using System.Text.Json;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Texts Perspective scored: RealToxicityPrompts rows' prompt and continuation, each with its `toxicity`, and the file
/// line it came from (<see cref="Lines"/>), so a split keeps a row's prompt and continuation together.
/// </summary>
public sealed record PerspectiveScoredTexts(string Name, IReadOnlyList<string> Texts, IReadOnlyList<double> Toxicity, IReadOnlyList<int> Lines)
{
    /// <summary>RealToxicityPrompts' own threshold: a text Perspective scores at least this is toxic.</summary>
    public const double ToxicThreshold = 0.5;

    /// <summary>
    /// A seeded share of the rows (lines) as a labelled training set named "NAME-perspective-labels" (toxic where
    /// Perspective says at least <see cref="ToxicThreshold"/>), and the other rows kept as texts to check a head against.
    /// </summary>
    public (ToxicityDataset Training, PerspectiveScoredTexts Check) SplitForTraining(double trainingFraction, int seed)
    {
        int[] lines = [.. Lines.Distinct()];
        new Random(seed).Shuffle(lines);
        var training = lines.Take((int)Math.Round(trainingFraction * lines.Length)).ToHashSet();
        int[] train = [.. Enumerable.Range(0, Texts.Count).Where(i => training.Contains(Lines[i]))];
        int[] check = [.. Enumerable.Range(0, Texts.Count).Where(i => !training.Contains(Lines[i]))];
        var dataset = new ToxicityDataset($"{Name}-perspective-labels", [.. train.Select(i => new LabelledText(Texts[i], Toxicity[i] >= ToxicThreshold))]);
        return (dataset, new PerspectiveScoredTexts(Name, [.. check.Select(i => Texts[i])], [.. check.Select(i => Toxicity[i])], [.. check.Select(i => Lines[i])]));
    }

    /// <summary>Every prompt and continuation of a RealToxicityPrompts JSONL file that has a Perspective toxicity (at most <paramref name="maxRows"/> rows; 0: all).</summary>
    /// <exception cref="RlhfException">A missing file, or a line that is not a RealToxicityPrompts row (one line naming it).</exception>
    public static PerspectiveScoredTexts Read(string path, int maxRows = 0)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: file not found");
        var texts = new List<string>();
        var toxicity = new List<double>();
        var lines = new List<int>();
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
                    lines.Add(lineNumber);
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new RlhfException($"{path}:{lineNumber}: not a RealToxicityPrompts row with Perspective scores ({e.Message.Split('\n')[0]})", e);
            }
        }
        if (texts.Count == 0) throw new RlhfException($"{path}: no prompt or continuation with a Perspective toxicity score");
        return new PerspectiveScoredTexts(Path.GetFileNameWithoutExtension(path), texts, toxicity, lines);
    }
}
