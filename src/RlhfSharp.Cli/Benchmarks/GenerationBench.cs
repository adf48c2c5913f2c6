using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Cached greedy generation (rollouts): tokens/s over the whole call, prefill included, and how the cost of a
/// new token grows from the first to the last as the cache fills (last/first).
/// </summary>
internal static class GenerationBench
{
    public static IEnumerable<BenchRow> Measure(string name, BenchSettings settings, PytorchReference? reference)
    {
        var config = BenchModels.Named(name);
        manual_seed(0);
        using var model = new CausalLanguageModel(config);
        var decode = new DecodeRun(model);
        foreach (int batch in settings.DecodeBatches)
        {
            var (ours, theirs) = Alternation.Run(settings.Repeats,
                () => decode.Run(batch, settings.PromptTokens, settings.NewTokens),
                reference is null ? null : () => reference.Decode(config, batch, settings.PromptTokens, settings.NewTokens));
            yield return Row(model.parameters().Sum(p => p.numel()), batch, settings, ours, theirs);
        }
    }

    static BenchRow Row(long parameters, int batch, BenchSettings settings, List<DecodeTiming> ours, List<DecodeTiming>? theirs)
    {
        long tokens = (long)batch * settings.NewTokens;
        double oursSeconds = BenchStatistics.Median(ours.Select(t => t.Seconds));
        double? theirsSeconds = theirs is null ? null : BenchStatistics.Median(theirs.Select(t => t.Seconds));
        double oursGrowth = BenchStatistics.Median(ours.Select(t => t.Growth));
        double? theirsGrowth = theirs is null ? null : BenchStatistics.Median(theirs.Select(t => t.Growth));
        string notes = $"last/first token {oursGrowth:F2}x" + (theirsGrowth is { } g ? $" (PyTorch {g:F2}x)" : "");
        var details = new Dictionary<string, object>
        {
            ["batch"] = batch, ["prompt_tokens"] = settings.PromptTokens, ["new_tokens"] = settings.NewTokens,
            ["seconds"] = ours.Select(t => t.Seconds).ToList(), ["growth"] = ours.Select(t => t.Growth).ToList(),
            ["first_step_ms"] = BenchStatistics.Median(ours.Select(t => t.FirstStep)) * 1e3,
            ["last_step_ms"] = BenchStatistics.Median(ours.Select(t => t.LastStep)) * 1e3,
        };
        if (theirs is not null)
        {
            details["pytorch_seconds"] = theirs.Select(t => t.Seconds).ToList();
            details["pytorch_growth"] = theirs.Select(t => t.Growth).ToList();
            details["pytorch_first_step_ms"] = BenchStatistics.Median(theirs.Select(t => t.FirstStep)) * 1e3;
            details["pytorch_last_step_ms"] = BenchStatistics.Median(theirs.Select(t => t.LastStep)) * 1e3;
        }
        return new BenchRow($"decode {parameters / 1e6:F1}M, batch {batch}", "tokens/s",
            tokens / oursSeconds, tokens / theirsSeconds, oursSeconds / theirsSeconds, notes, details);
    }
}
