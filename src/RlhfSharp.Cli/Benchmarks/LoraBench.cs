using Spectre.Console;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// `rlhf bench lora`: what LoRA saves, each configuration measured in its own process (<see cref="BenchChild"/>) so that
/// each peak is its own. Rows: SFT tokens/s and peak memory, full fine-tuning vs LoRA, on a GPT-2-124M-shaped model
/// (random weights, real HH dialogues and GPT-2 tokenizer); a PPO iteration's time split and peak memory on the same
/// shape with a full reference copy, hydra (bottom layers frozen and shared) and LoRA (the reference is the policy with
/// its adapters off), each against a reward model of the same shape; and one LoRA PPO iteration of a Llama-3.2-1B-shaped
/// model on one base (policy, reference and a reward adapter on the same weights, as `rlhf ppo` runs it), checked against 24 GiB.
/// </summary>
internal static class LoraBench
{
    /// <summary>The memory a single consumer machine or GPU typically has, which the large row must fit in.</summary>
    public const double BudgetGib = 24;

    public sealed record Results(List<LoraCaseResult> Sft, List<LoraCaseResult> Ppo, LoraCaseResult? Large);

    /// <summary>The cases the chosen rows need, in the order they run, each with its row.</summary>
    public static IEnumerable<(string Row, LoraBenchCase Case)> Cases(LoraBenchSettings settings)
    {
        if (settings.Rows.Contains(LoraBenchSettings.SftRow))
            foreach (string layout in new[] { LoraBenchCase.Full, LoraBenchCase.Lora })
                yield return (LoraBenchSettings.SftRow, new LoraBenchCase(LoraBenchCase.Sft, layout, settings.Model, settings));
        if (settings.Rows.Contains(LoraBenchSettings.PpoRow))
            foreach (string layout in new[] { LoraBenchCase.Full, LoraBenchCase.Hydra, LoraBenchCase.Lora })
                yield return (LoraBenchSettings.PpoRow, new LoraBenchCase(LoraBenchCase.Ppo, layout, settings.Model, settings));
        if (settings.Rows.Contains(LoraBenchSettings.LargeRow))
            yield return (LoraBenchSettings.LargeRow, new LoraBenchCase(LoraBenchCase.Ppo, LoraBenchCase.Lora, settings.LargeModel, settings, SharedReward: !settings.SeparateReward));
    }

    public static Results Measure(LoraBenchSettings settings, int threads, Action<string> progress)
    {
        var results = new Results([], [], null);
        foreach (var (row, benchCase) in Cases(settings))
        {
            progress($"lora: {benchCase} (own process)");
            var result = BenchChild.Run(benchCase, threads, progress);
            switch (row)
            {
                case LoraBenchSettings.SftRow: results.Sft.Add(result); break;
                case LoraBenchSettings.PpoRow: results.Ppo.Add(result); break;
                default: results = results with { Large = result }; break;
            }
        }
        return results;
    }

    /// <summary>The SFT rows for the main table: tokens/s, and in the notes the peak memory and, for LoRA, both as ratios to full fine-tuning.</summary>
    public static IEnumerable<BenchRow> SftRows(LoraBenchSettings settings, IReadOnlyList<LoraCaseResult> sft)
    {
        var full = sft.FirstOrDefault(r => r.Layout == LoraBenchCase.Full);
        foreach (var result in sft)
        {
            string layout = result.Layout == LoraBenchCase.Lora ? $"LoRA r{settings.Rank} {string.Join(",", settings.Target)}" : "full fine-tuning";
            string notes = $"peak RSS {result.PeakRssMb:F0} MB, {Millions(result.TrainableParameters)} trained";
            if (result != full && full is not null)
                notes += $"; vs full: tokens/s {result.TokensPerSecond / full.TokensPerSecond:F2}x, peak {result.PeakRssMb / full.PeakRssMb:F2}x";
            yield return new BenchRow($"sft {result.Label}, {layout}, {settings.SftBatch}x{settings.Sequence}", "tokens/s",
                result.TokensPerSecond ?? double.NaN, null, null, notes, new Dictionary<string, object>
                {
                    ["model"] = result.Model, ["layout"] = result.Layout, ["parameters"] = result.Parameters, ["trainable_parameters"] = result.TrainableParameters,
                    ["tokens_per_step"] = result.TokensPerStep ?? 0, ["step_seconds"] = result.StepSeconds ?? [], ["optimizer_state_mb"] = result.OptimizerStateMb ?? 0,
                    ["peak_rss_mb"] = result.PeakRssMb,
                });
        }
    }

    /// <summary>How a PPO column is headed: the layout, and for the large row its model.</summary>
    static string Column(LoraBenchSettings settings, LoraCaseResult result, bool large) => result.Layout switch
    {
        LoraBenchCase.Full => "full",
        LoraBenchCase.Hydra => "hydra",
        _ => large ? $"LoRA r{settings.Rank}, {result.Model}" : $"LoRA r{settings.Rank}",
    };

    /// <summary>Where each layout's reference comes from.</summary>
    static string Reference(LoraCaseResult result) => result.Layout switch
    {
        LoraBenchCase.Full => "own full copy",
        LoraBenchCase.Hydra => $"bottom {result.SharedLayers} blocks shared",
        _ => "policy, adapters off",
    };

    /// <summary>Millions, with two decimals below 10M so that a LoRA adapter's count does not show as 0.0.</summary>
    public static string Millions(long count) => count < 10_000_000 ? $"{count / 1e6:F2}M" : $"{count / 1e6:F1}M";

    public static Table PpoTable(LoraBenchSettings settings, Results results, int threads)
    {
        var columns = results.Ppo.Select(r => (Result: r, Large: false)).Concat(results.Large is { } large ? [(large, true)] : []).ToList();
        var full = results.Ppo.FirstOrDefault(r => r.Layout == LoraBenchCase.Full);
        var table = new Table().Title($"PPO iteration: batch {settings.PpoBatch}, prompts up to {settings.PromptTokens} tokens, {settings.NewTokens} new tokens, "
            + $"mini-batch {settings.MiniBatch}, {settings.PpoEpochs} epoch(s), {threads} threads; each column its own process");
        table.AddColumn("");
        foreach (var (result, isLarge) in columns) table.AddColumn(Column(settings, result, isLarge));
        void Row(string name, Func<LoraCaseResult, string> cell) => LargeAware(name, (r, _) => cell(r));
        void LargeAware(string name, Func<LoraCaseResult, bool, string> cell) => table.AddRow([name, .. columns.Select(c => cell(c.Result, c.Large))]);
        Row("model", r => r.Label);
        Row("reference", Reference);
        Row("trained parameters", r => Millions(r.TrainableParameters));
        Row("reference's own weights (MB)", r => $"{r.ReferenceOwnMb:F1}");
        Row("reward model", r => r.SharedReward ? "adapter on the policy's base" : "own copy, same shape");
        Row("reward model's own parameters", r => Millions(r.RewardOwnParameters ?? 0));
        Row("generation (s)", r => $"{r.Split!.Generation:F1}");
        Row("reward scoring (s)", r => $"{r.Split!.Scoring:F1}");
        Row("policy, value, reference passes (s)", r => $"{r.Split!.Reference:F1}");
        Row("optimisation (s)", r => $"{r.Split!.Training:F1}");
        Row("iteration (s)", r => $"{r.Split!.Seconds:F1}");
        Row("peak RSS (MB)", r => $"{r.PeakRssMb:F0}");
        if (full is not null) LargeAware("peak vs full", (r, isLarge) => isLarge ? "" : $"{r.PeakRssMb / full.PeakRssMb:F2}x");
        if (results.Large is not null) LargeAware($"under {BudgetGib:F0} GiB", (r, isLarge) => isLarge ? Headroom(r) : "");
        return table;
    }

    /// <summary>"fits: 7.9 GiB to spare" or "DOES NOT FIT: 1.2 GiB over", against <see cref="BudgetGib"/>.</summary>
    public static string Headroom(LoraCaseResult result)
    {
        double spare = BudgetGib - result.PeakRssMb * 1e6 / (1L << 30);
        return spare >= 0 ? $"fits: {spare:F1} GiB to spare" : $"DOES NOT FIT: {-spare:F1} GiB over";
    }
}
