using System.Text.Json;
using RlhfSharp.IO;
using Spectre.Console;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>Everything one `rlhf bench` run measured: printed as tables and saved as bench.json.</summary>
internal sealed class BenchReport(BenchSettings settings)
{
    public List<BenchRow> Rows { get; } = [];
    public string? TorchVersion { get; set; }
    public LossCheckResult? LossCheck { get; set; }
    public PpoBench.Settings? PpoSettings { get; set; }
    public List<Dictionary<string, object>>? Ppo { get; set; }
    public LoraBenchSettings? LoraSettings { get; set; }
    public LoraBench.Results? Lora { get; set; }
    /// <summary>The table's title where the rows are not medians of alternating runs (the real-shape case says how it timed them).</summary>
    public string? Title { get; set; }

    public void Write(IAnsiConsole console)
    {
        if (Rows.Count > 0)
        {
            bool compared = TorchVersion is not null;
            var table = new Table().Title(Title ?? $"RlhfSharp{(compared ? $" vs PyTorch {TorchVersion}" : "")}, {settings.Threads} threads, "
                + $"medians of {settings.Repeats} {(compared ? "alternating " : "")}runs");
            table.AddColumns("case", "unit", "RlhfSharp");
            if (compared) table.AddColumns("PyTorch", "time ours/PyTorch");
            table.AddColumn("notes");
            foreach (var row in Rows)
            {
                var cells = new List<string> { row.Case, row.Unit, $"{row.Ours:F1}" };
                if (compared) cells.AddRange([$"{row.Pytorch:F1}", $"{row.TimeRatio:F2}"]);
                cells.Add(row.Notes);
                table.AddRow(cells.Select(Markup.Escape).ToArray());
            }
            console.Write(table);
        }
        if (LossCheck is { } check)
            console.MarkupLine(Markup.Escape($"same weights, same loss: ours {check.OursBefore:F6} -> {check.OursAfter:F6} after one AdamW step, "
                + $"PyTorch {check.PytorchBefore:F6} -> {check.PytorchAfter:F6}; max difference {check.MaxDifference:E2} "
                + (check.Passed ? "(within 1e-4)" : "(FAILS: over 1e-4)")));
        if (Ppo is not null) console.Write(PpoBench.Table(PpoSettings!, Ppo));
        if (Lora is { } lora && (lora.Ppo.Count > 0 || lora.Large is not null)) console.Write(LoraBench.PpoTable(LoraSettings!, lora, settings.Threads));
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var report = new
        {
            machine = new { threads = settings.Threads, processors = Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
            pytorch = TorchVersion,
            settings,
            cases = Rows.Select(r => new { @case = r.Case, unit = r.Unit, ours = r.Ours, pytorch = r.Pytorch, time_ratio = r.TimeRatio, notes = r.Notes, details = r.Details }),
            loss_check = LossCheck is { } c ? new { ours_before = c.OursBefore, ours_after = c.OursAfter, pytorch_before = c.PytorchBefore, pytorch_after = c.PytorchAfter, max_difference = c.MaxDifference, passed = c.Passed } : null,
            ppo = Ppo,
            lora = Lora is { } lora
                ? JsonSerializer.SerializeToElement(new { settings = LoraSettings, sft = lora.Sft, ppo = lora.Ppo, large = lora.Large }, BenchChild.Json)
                : (JsonElement?)null,
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "bench.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }
}
