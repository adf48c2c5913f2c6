using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Cached greedy generation (rollouts): tokens/s over the whole call, prefill included, how the cost of a new token
/// grows from the first to the last as the cache fills (last/first), and the process's peak resident memory while
/// generating (weights included). Models the PyTorch reference cannot build are timed on our side only.
/// </summary>
internal static class GenerationBench
{
    public static IEnumerable<BenchRow> Measure(string name, BenchSettings settings, PytorchReference? reference)
    {
        var config = BenchModels.Named(name);
        manual_seed(0);
        using var model = new CausalLanguageModel(config);
        var decode = new DecodeRun(model);
        var compared = BenchModels.HasReference(config) ? reference : null;
        string label = BenchModels.Label(name, model.parameters().Sum(p => p.numel()));
        foreach (int batch in settings.DecodeBatches)
        {
            PeakMemory.Reset();
            var (ours, theirs) = Alternation.Run(settings.Repeats,
                () => decode.Run(batch, settings.PromptTokens, settings.NewTokens),
                compared is null ? null : () => compared.Decode(config, batch, settings.PromptTokens, settings.NewTokens));
            yield return Row(label, batch, settings, ours, theirs, PeakMemory.ResidentBytes());
        }
    }

    static BenchRow Row(string label, int batch, BenchSettings settings, List<DecodeTiming> ours, List<DecodeTiming>? theirs, long peakBytes)
    {
        long tokens = (long)batch * settings.NewTokens;
        double oursSeconds = BenchStatistics.Median(ours.Select(t => t.Seconds));
        double? theirsSeconds = theirs is null ? null : BenchStatistics.Median(theirs.Select(t => t.Seconds));
        double oursGrowth = BenchStatistics.Median(ours.Select(t => t.Growth));
        double? theirsGrowth = theirs is null ? null : BenchStatistics.Median(theirs.Select(t => t.Growth));
        double peakMegabytes = Math.Round(peakBytes / 1e6, 0);
        string notes = $"last/first token {oursGrowth:F2}x" + (theirsGrowth is { } g ? $" (PyTorch {g:F2}x)" : "") + $", peak RSS {peakMegabytes:F0} MB";
        var details = new Dictionary<string, object>
        {
            ["batch"] = batch, ["prompt_tokens"] = settings.PromptTokens, ["new_tokens"] = settings.NewTokens,
            ["seconds"] = ours.Select(t => t.Seconds).ToList(), ["growth"] = ours.Select(t => t.Growth).ToList(),
            ["first_step_ms"] = BenchStatistics.Median(ours.Select(t => t.FirstStep)) * 1e3,
            ["last_step_ms"] = BenchStatistics.Median(ours.Select(t => t.LastStep)) * 1e3,
            ["peak_rss_mb"] = peakMegabytes,
        };
        if (theirs is not null)
        {
            details["pytorch_seconds"] = theirs.Select(t => t.Seconds).ToList();
            details["pytorch_growth"] = theirs.Select(t => t.Growth).ToList();
            details["pytorch_first_step_ms"] = BenchStatistics.Median(theirs.Select(t => t.FirstStep)) * 1e3;
            details["pytorch_last_step_ms"] = BenchStatistics.Median(theirs.Select(t => t.LastStep)) * 1e3;
        }
        return new BenchRow($"decode {label}, batch {batch}", "tokens/s",
            tokens / oursSeconds, tokens / theirsSeconds, oursSeconds / theirsSeconds, notes, details);
    }
}
