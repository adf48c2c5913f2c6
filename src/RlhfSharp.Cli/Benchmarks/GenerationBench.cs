using RlhfSharp.Generation.FusedDecode;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Cached greedy generation (rollouts): tokens/s over the whole call, prefill included, how the cost of a new token
/// grows from the first to the last as the cache fills (last/first), and the process's peak resident memory while
/// generating (weights included). Beside each row, the memory-bandwidth bound for its batch (<see cref="DecodeBound"/>), from a
/// streaming read of the weights' size measured in the same run, and the share of it reached. Models the PyTorch reference
/// cannot build are timed on our side only. Batch 1 takes the fused step (<see cref="FusedSingleSequenceStep"/>) where the model
/// allows it; its row is then followed by the module path's (RLHF_DECODE=modules), timed in turn with it in the same run.
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
        long parameters = model.parameters().Sum(p => p.numel());
        string label = BenchModels.Label(name, parameters);
        long weightBytes = DecodeBound.WeightBytesPerStep(config, parameters);
        double bandwidth = MemoryBandwidth.Measure(weightBytes);
        bool fused = FusedDecodeSwitch.Enabled && FusedDecodeEligibility.DeclineReason(config) is null;
        foreach (int batch in settings.DecodeBatches)
        {
            PeakMemory.Reset();
            bool alsoModules = batch == 1 && fused;
            // Fused, modules, PyTorch in turn: a change in load falls on all three alike.
            var sides = new List<Func<DecodeTiming>> { () => decode.Run(batch, settings.PromptTokens, settings.NewTokens) };
            if (alsoModules) sides.Add(() => decode.Run(batch, settings.PromptTokens, settings.NewTokens, modules: true));
            if (compared is not null) sides.Add(() => compared.Decode(config, batch, settings.PromptTokens, settings.NewTokens));
            var runs = Alternation.RunAll(settings.Repeats, sides);
            var (ours, modules, theirs) = (runs[0], alsoModules ? runs[1] : null, compared is null ? null : runs[^1]);
            double bytesPerStep = DecodeBound.BytesPerStep(weightBytes, DecodeBound.CacheBytesPerPosition(config), batch, settings.PromptTokens, settings.NewTokens);
            var bound = new Bound(bandwidth, weightBytes, DecodeBound.TokensPerSecond(bandwidth, bytesPerStep, batch), bytesPerStep / bandwidth);
            long peak = PeakMemory.ResidentBytes();
            yield return Row($"decode {label}, batch {batch}", batch, settings, ours, theirs, peak, bound, modules);
            if (modules is not null) yield return Row($"decode {label}, batch {batch}, modules (RLHF_DECODE=modules)", batch, settings, modules, theirs, peak, bound, null);
        }
    }

    /// <summary>The bandwidth measured (bytes/s), the weight bytes a step reads, the tokens/s they allow at one batch size, and the
    /// time a step needs to read its bytes at that bandwidth.</summary>
    readonly record struct Bound(double BytesPerSecond, long WeightBytes, double TokensPerSecond, double StepSeconds);

    /// <param name="modules">At batch 1 on the fused step: the module path's runs, timed in turn with these, for the ratio.</param>
    static BenchRow Row(string name, int batch, BenchSettings settings, List<DecodeTiming> ours, List<DecodeTiming>? theirs, long peakBytes, Bound bound,
        List<DecodeTiming>? modules)
    {
        long tokens = (long)batch * settings.NewTokens;
        double oursSeconds = BenchStatistics.Median(ours.Select(t => t.Seconds));
        double? theirsSeconds = theirs is null ? null : BenchStatistics.Median(theirs.Select(t => t.Seconds));
        double oursGrowth = BenchStatistics.Median(ours.Select(t => t.Growth));
        double? theirsGrowth = theirs is null ? null : BenchStatistics.Median(theirs.Select(t => t.Growth));
        double peakMegabytes = Math.Round(peakBytes / 1e6, 0);
        double share = tokens / oursSeconds / bound.TokensPerSecond;
        double? theirsShare = theirsSeconds is { } s ? tokens / s / bound.TokensPerSecond : null;
        double stepMs = BenchStatistics.Median(ours.SelectMany(t => t.StepSeconds)) * 1e3;
        double? modulesSeconds = modules is null ? null : BenchStatistics.Median(modules.Select(t => t.Seconds));
        double stepShare = bound.StepSeconds * 1e3 / stepMs;
        string notes = $"step {stepMs:F2} ms ({stepShare * 100:F0}% of the bound's {bound.StepSeconds * 1e3:F2} ms), last/first token {oursGrowth:F2}x" + (theirsGrowth is { } g ? $" (PyTorch {g:F2}x)" : "") + $", peak RSS {peakMegabytes:F0} MB"
            + $", bandwidth bound {bound.TokensPerSecond:F0} tokens/s at {bound.BytesPerSecond / 1e9:F1} GB/s, ours {share * 100:F0}%"
            + (theirsShare is { } t ? $" (PyTorch {t * 100:F0}%)" : "")
            + (modulesSeconds is { } m ? $", fused step {m / oursSeconds:F2}x the modules' tokens/s" : "");
        var details = new Dictionary<string, object>
        {
            ["batch"] = batch, ["prompt_tokens"] = settings.PromptTokens, ["new_tokens"] = settings.NewTokens,
            ["seconds"] = ours.Select(t => t.Seconds).ToList(), ["growth"] = ours.Select(t => t.Growth).ToList(),
            ["first_step_ms"] = BenchStatistics.Median(ours.Select(t => t.FirstStep)) * 1e3,
            ["last_step_ms"] = BenchStatistics.Median(ours.Select(t => t.LastStep)) * 1e3,
            ["peak_rss_mb"] = peakMegabytes,
            ["memory_gb_per_s"] = bound.BytesPerSecond / 1e9, ["weight_bytes_per_step"] = bound.WeightBytes,
            ["bound_tokens_per_s"] = bound.TokensPerSecond, ["bound_share"] = share, ["median_step_ms"] = stepMs,
            ["bound_step_ms"] = bound.StepSeconds * 1e3, ["step_bound_share"] = stepShare,
        };
        if (modules is not null)
        {
            details["modules_seconds"] = modules.Select(t => t.Seconds).ToList();
            details["modules_median_step_ms"] = BenchStatistics.Median(modules.SelectMany(t => t.StepSeconds)) * 1e3;
            details["fused_over_modules_tokens_per_s"] = modulesSeconds!.Value / oursSeconds;
        }
        if (theirs is not null)
        {
            details["pytorch_seconds"] = theirs.Select(t => t.Seconds).ToList();
            details["pytorch_growth"] = theirs.Select(t => t.Growth).ToList();
            details["pytorch_first_step_ms"] = BenchStatistics.Median(theirs.Select(t => t.FirstStep)) * 1e3;
            details["pytorch_last_step_ms"] = BenchStatistics.Median(theirs.Select(t => t.LastStep)) * 1e3;
            details["pytorch_bound_share"] = theirsShare!;
        }
        return new BenchRow(name, "tokens/s",
            tokens / oursSeconds, tokens / theirsSeconds, oursSeconds / theirsSeconds, notes, details);
    }
}
