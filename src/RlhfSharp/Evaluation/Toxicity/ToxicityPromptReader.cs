using RlhfSharp.Data;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Prompts for the toxicity protocol, read by the prompt reader every command shares (<see cref="DatasetReader.ReadPromptRecords"/>):
/// RealToxicityPrompts JSONL (<c>{"prompt": {"text", "toxicity", ...}}</c>, whose prompt scores split the report), any
/// prompt file the data readers accept (a "prompt" string field, HH dialogues), or plain text with one prompt per line.
/// </summary>
public static class ToxicityPromptReader
{
    public static IReadOnlyList<ToxicityPrompt> Read(string path) =>
        DatasetReader.ReadPromptRecords(path).Examples.Select(p => new ToxicityPrompt(p.Text, p.Toxicity)).ToList();
}
