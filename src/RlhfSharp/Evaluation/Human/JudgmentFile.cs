using System.Text.Json;
using RlhfSharp.IO;

namespace RlhfSharp.Evaluation.Human;

/// <summary>Judgments as JSONL: {"item_id", "annotator", "choice": "A"|"B"|"Tie", "criterion"?}.</summary>
public static class JudgmentFile
{
    public static void Write(string path, IEnumerable<PairwiseJudgment> judgments) =>
        AtomicFile.WriteAllText(path, string.Concat(judgments.Select(j => JsonSerializer.Serialize(new Dictionary<string, string?>
        {
            ["item_id"] = j.ItemId, ["annotator"] = j.Annotator, ["choice"] = j.Choice.ToString(), ["criterion"] = j.Criterion,
        }) + "\n")));

    public static IReadOnlyList<PairwiseJudgment> Read(string path)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: file not found");
        var judgments = new List<PairwiseJudgment>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                var row = JsonSerializer.Deserialize<Dictionary<string, string?>>(line) ?? throw new JsonException("not an object");
                string Field(string name) => row.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : throw new RlhfException($"{path}:{lineNumber}: field '{name}' is missing");
                if (!Enum.TryParse<PairwiseChoice>(Field("choice"), ignoreCase: true, out var choice))
                    throw new RlhfException($"{path}:{lineNumber}: field 'choice' must be A, B or Tie");
                judgments.Add(new PairwiseJudgment(Field("item_id"), Field("annotator"), choice, row.GetValueOrDefault("criterion")));
            }
            catch (JsonException e)
            {
                throw new RlhfException($"{path}:{lineNumber}: invalid JSON ({e.Message.Split('.')[0]})");
            }
        }
        return judgments;
    }
}
