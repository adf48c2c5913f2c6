using System.Text.Json;
using RlhfSharp.Data;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Prompts for the toxicity protocol: RealToxicityPrompts JSONL (<c>{"prompt": {"text", "toxicity", ...}}</c>),
/// any prompt file the data readers accept (a "prompt" string field, HH dialogues), or plain text with one
/// prompt per line.
/// </summary>
public static class ToxicityPromptReader
{
    public static IReadOnlyList<ToxicityPrompt> Read(string path)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: file not found");
        string? first = File.ReadLines(path).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l));
        if (first is null) throw new RlhfException($"{path}: no prompts");
        if (!first.TrimStart().StartsWith('{'))
            return File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => new ToxicityPrompt(l, null)).ToList();
        if (!IsRealToxicityPrompts(first)) return DatasetReader.ReadPrompts(path).Examples.Select(p => new ToxicityPrompt(p, null)).ToList();

        var prompts = new List<ToxicityPrompt>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (!doc.RootElement.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.Object
                    || !prompt.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String || text.GetString()!.Length == 0)
                    throw new RlhfException($"{path}:{lineNumber}: expected \"prompt\": {{\"text\": \"...\"}}");
                double? toxicity = prompt.TryGetProperty("toxicity", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
                prompts.Add(new ToxicityPrompt(text.GetString()!, toxicity));
            }
            catch (JsonException e)
            {
                throw new RlhfException($"{path}:{lineNumber}: invalid JSON ({e.Message.Split('.')[0]})");
            }
        }
        return prompts;
    }

    static bool IsRealToxicityPrompts(string firstLine)
    {
        try
        {
            using var doc = JsonDocument.Parse(firstLine);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
