using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Training-step throughput: tokens/s and model-FLOPs utilisation, 6 x parameters x tokens/s over the matmul
/// peak each side measured in the same run (the 6·N approximation of Kaplan et al. 2020, section 2.1: 2·N
/// forward and 4·N backward; attention's own FLOPs are not counted).
/// </summary>
internal static class TrainingBench
{
    public static BenchRow Measure(string name, BenchSettings settings, PytorchReference? reference, BenchRow peak)
    {
        var config = BenchModels.Named(name);
        manual_seed(0);
        using var model = new CausalLanguageModel(config);
        using var step = new TrainingStep(model, settings.Batch, settings.Sequence);
        var compared = BenchModels.HasReference(config) ? reference : null;
        var (ours, theirs) = Alternation.Run(settings.Repeats,
            () => step.Run().Seconds,
            compared is null ? null : () => compared.TrainStep(config, settings.Batch, settings.Sequence));

        long parameters = step.Parameters, tokens = step.TokensPerStep;
        double oursMedian = BenchStatistics.Median(ours);
        double? theirsMedian = theirs is null ? null : BenchStatistics.Median(theirs);
        double Mfu(double seconds, double gflops) => 6.0 * parameters * tokens / seconds / (gflops * 1e9);
        double oursMfu = Mfu(oursMedian, peak.Ours);
        double? theirsMfu = theirsMedian is { } t && peak.Pytorch is { } p ? Mfu(t, p) : null;
        string notes = $"MFU {oursMfu:F2}" + (theirsMfu is { } m ? $" (PyTorch {m:F2})" : "");
        return new BenchRow($"train {parameters / 1e6:F1}M, {settings.Batch}x{settings.Sequence}", "tokens/s",
            tokens / oursMedian, tokens / theirsMedian, oursMedian / theirsMedian, notes, new Dictionary<string, object?>
            {
                ["model"] = name, ["parameters"] = parameters, ["tokens_per_step"] = tokens,
                ["step_seconds"] = ours, ["pytorch_step_seconds"] = theirs, ["mfu"] = oursMfu, ["pytorch_mfu"] = theirsMfu,
            }.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!));
    }
}
