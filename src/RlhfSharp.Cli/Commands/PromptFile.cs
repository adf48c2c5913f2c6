using System.Text.Json;

namespace RlhfSharp.Cli.Commands;

/// <summary>Prompts from a JSONL file: one object per line with a "prompt" string.</summary>
public static class PromptFile
{
    public static IReadOnlyList<string> Read(string path)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: file not found");
        var prompts = new List<string>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String)
                    throw new RlhfException($"{path}:{lineNumber}: expected an object with a string field 'prompt'");
                if (prompt.GetString()!.Length == 0) throw new RlhfException($"{path}:{lineNumber}: field 'prompt' is empty");
                prompts.Add(prompt.GetString()!);
            }
            catch (JsonException e)
            {
                throw new RlhfException($"{path}:{lineNumber}: invalid JSON ({e.Message.Split('.')[0]})");
            }
        }
        if (prompts.Count == 0) throw new RlhfException($"{path}: no prompts");
        return prompts;
    }
}
