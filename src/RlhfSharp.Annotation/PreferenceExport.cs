using System.Text.Json;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.IO;

namespace RlhfSharp.Annotation;

/// <summary>
/// Writes judgments as preference pairs in the Dahoas/rm-static layout ({"prompt", "chosen", "rejected"}, one a line),
/// so a reward model can train on them. One row per judgment: an item judged by three annotators gives three rows.
/// </summary>
public static class PreferenceExport
{
    /// <returns>Rows written, and ties left out.</returns>
    public static (int Pairs, int TiesDropped) Write(AnnotationStore store, string path, TiePolicy ties)
    {
        var comparisons = store.ReadComparisons().ToDictionary(c => c.Id);
        var rows = new List<string>();
        int dropped = 0;
        foreach (var judgment in store.ReadJudgments())
        {
            var item = comparisons[judgment.ItemId];
            if (judgment.Choice == PairwiseChoice.Tie && ties == TiePolicy.Drop)
            {
                dropped++;
                continue;
            }
            bool aChosen = judgment.Choice != PairwiseChoice.B; // a kept tie is written A-first and marked
            var (chosen, rejected) = aChosen ? (item.ResponseA, item.ResponseB) : (item.ResponseB, item.ResponseA);
            rows.Add(judgment.Choice == PairwiseChoice.Tie
                ? JsonSerializer.Serialize(new { prompt = item.Prompt, chosen, rejected, tie = true })
                : JsonSerializer.Serialize(new { prompt = item.Prompt, chosen, rejected }));
        }
        AtomicFile.WriteAllText(path, string.Concat(rows.Select(r => r + "\n")));
        return (rows.Count, dropped);
    }
}
