using System.Globalization;
using System.Text;

namespace RlhfSharp.Cli.Loop;

/// <summary>The rounds side by side (rounds.md): what was collected, how well the reward model ranks held-out pairs, and whether each round's policy beat the one before.</summary>
internal static class RoundsTable
{
    public static string Markdown(IReadOnlyList<RoundRecord> records)
    {
        var text = new StringBuilder();
        text.AppendLine("| Round | Comparisons judged | Judgments | Agreement | New preference pairs | RM held-out accuracy | New policy vs previous (wins / ties / losses) | Sign test p | Minutes |");
        text.AppendLine("|---:|---:|---:|---|---:|---:|---|---:|---:|");
        foreach (var r in records)
        {
            var e = r.Evaluation;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Round} | {r.Collected?.Items} | {r.Collected?.Judgments} | {LoopRun.Agreement(r.Collected)} | {r.NewPairs} ({r.AllPairs} in all) | " +
                $"{(r.RewardAccuracy is { } a ? $"{100 * a:F1}%" : "n/a")} | " +
                $"{(e is null ? "" : $"{e.ModelB} vs {e.ModelA}: {e.BWins} / {e.Ties} / {e.AWins}")} | {(e is null ? "" : e.SignTestP.ToString("G3", CultureInfo.InvariantCulture))} | " +
                $"{r.Seconds / 60:F1} |"));
        }
        return text.ToString();
    }
}
