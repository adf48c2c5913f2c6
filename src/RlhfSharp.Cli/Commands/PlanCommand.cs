using System.CommandLine;
using System.Globalization;
using RlhfSharp.Cli.Benchmarks;
using RlhfSharp.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Planning;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;
using Spectre.Console;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf plan --model M --method sft|reward|ppo|dpo [--config recipe.yaml] [flags]`: the memory a training run needs on each
/// rank (<see cref="MemoryPlan"/>), whether that fits this machine, and the time per step its FLOPs take at this machine's
/// measured matmul throughput (<see cref="StepCost"/>), from the model's config.json alone: nothing is loaded or trained.
/// </summary>
internal static class PlanCommand
{
    static readonly Option<string> Model = new("--model")
    {
        Description = "model folder, its config.json, or a hub id org/name (only config.json is read, from the cache or downloaded alone)",
        Required = true,
    };
    static readonly Option<string?> Method = new("--method") { Description = "sft, reward, ppo or dpo (default: from a --config named *-sft.yaml, *-reward.yaml, *-ppo.yaml or *-dpo.yaml)" };
    static readonly Option<string?> Config = new("--config") { Description = "the trainer's YAML config (a recipe): its batch, lengths, frozen layers, LoRA and PPO settings; flags override it" };
    static readonly Option<string?> RewardModel = new("--reward-model") { Description = "ppo: the reward model (folder, config.json or hub id; default: the policy's shape)" };
    static readonly Option<bool> RewardSharesBase = new("--reward-shares-base")
    {
        Description = "ppo with LoRA: the reward model is a LoRA adapter on the policy's base (as `ppo` runs a reward adapter on the same base): no second copy",
    };
    static readonly Option<int?> BatchSize = new("--batch-size") { Description = "sft: examples per micro-batch; reward, dpo: pairs; ppo: prompts per iteration (default: the trainer's, 8)" };
    static readonly Option<int?> MaxLength = new("--max-length") { Description = "tokens per example; ppo: prompt tokens (default: the trainer's, 512)" };
    static readonly Option<int?> MaxNewTokens = new("--max-new-tokens") { Description = "ppo: tokens generated per prompt (default 64)" };
    static readonly Option<int?> MiniBatchSize = new("--mini-batch-size") { Description = "ppo: rollouts per forward/backward (0: the whole batch)" };
    static readonly Option<int?> LoraR = new("--lora-r") { Description = "LoRA rank (0: train the weights themselves)" };
    static readonly Option<string[]> LoraTarget = new("--lora-target")
    {
        Description = "modules LoRA wraps, PEFT's names (q_proj,v_proj; c_attn; query_key_value ...) or all-linear (default all-linear)",
        AllowMultipleArgumentsPerToken = true,
    };
    static readonly Option<double?> LoraDropout = new("--lora-dropout") { Description = "LoRA input dropout (default 0)" };
    static readonly Option<int?> FreezeBottomLayers = new("--freeze-bottom-layers") { Description = "embeddings and the bottom N blocks frozen (ppo: shared with the reference, hydra)" };
    static readonly Option<bool> SeparateValueModel = new("--separate-value-model") { Description = "ppo: the value head on its own trunk copy" };
    static readonly Option<bool> GradientCheckpointing = new("--gradient-checkpointing") { Description = "keep only each block's input; recompute a block's activations in backward" };
    static readonly Option<int?> ZeroStage = new("--zero-stage") { Description = "1: shard the AdamW state over the ranks (ZeRO-1)" };
    static readonly Option<int> Ranks = new("--ranks") { Description = "data-parallel processes (each holds the plan's per-rank memory)", DefaultValueFactory = _ => 1 };
    static readonly Option<double?> Gflops = new("--gflops") { Description = "fp32 matmul throughput to plan the time with, GFLOP/s (default: measured now, a second or two)" };
    static readonly Option<double?> MemoryGib = new("--memory-gib") { Description = "memory to fit the run into, GiB (default: this machine's available memory, /proc/meminfo's MemAvailable)" };

    static readonly string[] Methods = ["sft", "reward", "ppo", "dpo"];

    /// <summary>
    /// How far measured peaks ran above the estimate (live tensors only) with this process's malloc set-up: `bench plan`'s six
    /// GPT-2-124M cases, 2026-11-30. The start-up set-up keeps freed blocks in the heap for the next step, which costs resident memory.
    /// </summary>
    internal static string AllocatorNote(bool startUpSetUp, bool mmapThresholdSet) => (startUpSetUp, mmapThresholdSet) switch
    {
        (true, _) => $"live tensors; malloc keeps freed blocks for the next step (the start-up set-up): measured peaks ran x1.26-1.53 of this in `bench plan`, x1.02-1.14 with {MmapThreshold}=1048576",
        (false, true) => $"live tensors; with {MmapThreshold} set low, measured peaks ran x1.02-1.14 of this in `bench plan`",
        _ => $"live tensors; malloc keeps some freed memory: measured peaks ran above this in `bench plan` (x1.02-1.14 with {MmapThreshold}=1048576)",
    };

    /// <summary>glibc's variable for the size from which allocations are mapped, and so returned to the system when freed.</summary>
    const string MmapThreshold = "MALLOC_MMAP_THRESHOLD_";

    public static Command Build()
    {
        var command = new Command("plan",
            "The memory a training run needs per rank (weights, gradients, AdamW state, activations, logits, KV cache, reference, value and reward models), " +
            "whether it fits this machine, and the time per step at this machine's matmul throughput; from config.json alone.");
        foreach (var option in new Option[]
                 {
                     Model, InputChecks.Revision, Method, Config, RewardModel, RewardSharesBase, BatchSize, MaxLength, MaxNewTokens, MiniBatchSize, LoraR, LoraTarget,
                     LoraDropout, FreezeBottomLayers, SeparateValueModel, GradientCheckpointing, ZeroStage, Ranks, Gflops, MemoryGib,
                 })
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    static int Run(ParseResult parsed)
    {
        var method = MethodOf(parsed);
        var options = LoadOptions(method, parsed.GetValue(Config));
        string configPath = InputChecks.ModelConfigFile(parsed, Model.Name, parsed.GetValue(Model)!);
        var model = ModelConfig.FromFile(configPath);
        var rewardModel = method == PlanMethod.Ppo && parsed.GetValue(RewardModel) is { } reward
            ? ModelConfig.FromFile(InputChecks.ModelConfigFile(parsed, RewardModel.Name, reward))
            : null;
        var (settings, notes) = Settings(parsed, method, options, model);
        settings = settings with { RewardModel = rewardModel, RewardSharesBase = method == PlanMethod.Ppo && parsed.GetValue(RewardSharesBase) };
        var plan = InputChecks.Flagged(() => MemoryPlan.Estimate(model, settings));
        var cost = StepCost.Of(model, settings);

        double gflops = parsed.GetValue(Gflops) ?? MeasureGflops();
        long? memory = parsed.GetValue(MemoryGib) is double gib ? (long)(gib * (1L << 30)) : MachineMemory.Read()?.AvailableBytes;
        var output = parsed.InvocationConfiguration.Output;
        foreach (string note in notes) output.WriteLine($"note: {note}");
        Write(CliApp.Console(parsed), Describe(parsed, method, model, settings), plan, cost, gflops, parsed.GetValue(Gflops) is null, memory, parsed.GetValue(MemoryGib) is null, settings.Ranks);
        return 0;
    }

    /// <summary>--method, or the last word of the --config file's name.</summary>
    static PlanMethod MethodOf(ParseResult parsed)
    {
        string? given = parsed.GetValue(Method);
        if (given is null && parsed.GetValue(Config) is { } path)
        {
            string word = Path.GetFileNameWithoutExtension(path).Split('-')[^1].ToLowerInvariant();
            if (Methods.Contains(word)) given = word;
            else throw new RlhfException($"{path}: name a trainer with --method ({string.Join(", ", Methods)}); the file's name does not end in one");
        }
        return given?.ToLowerInvariant() switch
        {
            "sft" => PlanMethod.Sft,
            "reward" => PlanMethod.Reward,
            "ppo" => PlanMethod.Ppo,
            "dpo" => PlanMethod.Dpo,
            null => throw new RlhfException("option --method is required (sft, reward, ppo or dpo) unless --config's file name ends in one"),
            _ => throw new RlhfException(InvalidOptionException.Describe(Method.Name, given, $"must be one of {string.Join(", ", Methods)}")),
        };
    }

    /// <summary>The trainer's options: its defaults, or a config file as that trainer's --config reads it (unknown keys and bad values are errors naming the file).</summary>
    static TrainingOptions LoadOptions(PlanMethod method, string? path)
    {
        TrainingOptions options = method switch
        {
            PlanMethod.Ppo => path is null ? new PpoOptions() : YamlConfig.Load<PpoOptions>(path),
            PlanMethod.Reward => path is null ? new RewardOptions() : YamlConfig.Load<RewardOptions>(path),
            _ => path is null ? new SftOptions() : YamlConfig.Load<SftOptions>(path), // dpo: the shared keys until a DPO trainer has its own
        };
        try
        {
            options.Validate();
        }
        catch (InvalidOptionException e) when (path is not null)
        {
            throw new RlhfException($"{path}: {e.Message}", e);
        }
        return options;
    }

    /// <summary>The plan's settings: the options, then the flags given; lengths fitted to the model's context as the trainers fit them.</summary>
    static (PlanSettings Settings, List<string> Notes) Settings(ParseResult parsed, PlanMethod method, TrainingOptions options, ModelConfig model)
    {
        var ppo = options as PpoOptions;
        T Flag<T>(Option<T?> option, T fromOptions, Func<T, bool> ok, string rule) where T : struct =>
            parsed.GetValue(option) is T value ? (ok(value) ? value : throw new RlhfException(InvalidOptionException.Describe(option.Name, value, rule))) : fromOptions;

        int newTokens = Flag(MaxNewTokens, ppo?.Sampling.MaxNewTokens ?? 64, v => v > 0, "must be positive");
        var settings = new PlanSettings
        {
            Method = method,
            BatchSize = Flag(BatchSize, options.BatchSize, v => v > 0, "must be positive"),
            MaxLength = Flag(MaxLength, options.MaxLength, v => v >= 2, "must be at least 2"),
            MaxNewTokens = newTokens,
            MiniBatchSize = Flag(MiniBatchSize, ppo?.MiniBatchSize ?? 0, v => v >= 0, "must be 0 (the whole batch) or more"),
            PpoEpochs = ppo?.PpoEpochs ?? 4,
            LoraRank = Flag(LoraR, options.LoraR, v => v >= 0, "must be 0 (no LoRA) or more"),
            LoraTargets = (parsed.GetValue(LoraTarget) is { Length: > 0 } targets ? targets : options.LoraTarget)
                .SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
            LoraDropout = Flag(LoraDropout, options.LoraDropout, v => v is >= 0 and < 1, "must be in [0, 1)"),
            FreezeBottomLayers = Flag(FreezeBottomLayers, options.FreezeBottomLayers, v => v >= 0, "must be 0 or more"),
            SeparateValueModel = parsed.GetValue(SeparateValueModel) || (ppo?.SeparateValueModel ?? false),
            GradientCheckpointing = parsed.GetValue(GradientCheckpointing) || options.GradientCheckpointing,
            ZeroStage = Flag(ZeroStage, options.ZeroStage, v => v is 0 or 1, "must be 0 or 1"),
            Ranks = InputChecks.Value(parsed, Ranks, v => v >= 1, "must be at least 1"),
        };
        if (settings.UsesLora && settings.FreezeBottomLayers > 0)
            throw new RlhfException($"options --lora-r and --freeze-bottom-layers: LoRA already freezes the whole base model, so give one of them");
        var notes = new List<string>();
        var context = ContextWindow.Of(model);
        var fit = method == PlanMethod.Ppo
            ? InputChecks.Flagged(() => context.CapPrompt(MaxLength.Name, settings.MaxLength, newTokens))
            : context.Cap(MaxLength.Name, settings.MaxLength);
        if (fit.Note is { } note) notes.Add(note);
        return (settings with { MaxLength = fit.Value }, notes);
    }

    static string Describe(ParseResult parsed, PlanMethod method, ModelConfig model, PlanSettings s)
    {
        string given = parsed.GetValue(Model)!;
        string name = File.Exists(given) ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(given)))! : InputChecks.ModelName(given, given);
        string how = s.UsesLora ? $"LoRA r {s.LoraRank}" : s.FreezeBottomLayers > 0 ? $"bottom {s.FreezeBottomLayers} of {model.NumLayers} layers frozen" : "full fine-tuning";
        string batch = method switch
        {
            PlanMethod.Ppo => $"{s.BatchSize} prompts x ({s.MaxLength} + {s.MaxNewTokens} new) tokens" + (s.MiniBatchSize > 0 ? $", mini-batch {s.MiniBatchSize}" : ""),
            PlanMethod.Reward or PlanMethod.Dpo => $"{s.BatchSize} pair{(s.BatchSize == 1 ? "" : "s")} x {s.MaxLength} tokens",
            _ => $"{s.BatchSize} x {s.MaxLength} tokens",
        };
        return $"plan: {method.ToString().ToLowerInvariant()} of {name} ({model.Family}, {model.NumLayers} layers, d{model.HiddenSize}), {how}, {batch}" +
            (s.GradientCheckpointing ? ", gradient checkpointing" : "") + (s.Ranks > 1 ? $", {s.Ranks} ranks" + (s.ZeroStage == 1 ? " (ZeRO-1)" : "") : "");
    }

    /// <summary>The fp32 matmul throughput of this machine through LibTorch, quickly: the best of the square probes bench uses.</summary>
    static double MeasureGflops()
    {
        CliApp.InitializeTorch(0);
        return MatmulPeak.Shapes(1024).Take(2).Max(s => MatmulPeak.Measure(s[0], s[1], s[2], repeats: 3));
    }

    static void Write(IAnsiConsole console, string title, MemoryPlan plan, IReadOnlyList<CostPhase> cost, double gflops, bool measuredGflops, long? memory, bool measuredMemory, int ranks)
    {
        Widen(console);
        console.WriteLine(title);
        var table = new Table().AddColumn("memory per rank").AddColumn(new TableColumn("size").RightAligned()).AddColumn("when").AddColumn("what");
        foreach (var item in plan.Items) table.AddRow(Markup.Escape(item.Name), Size(item.Bytes), When(item.Phase), Markup.Escape(item.Note));
        table.AddRow("[bold]peak[/]", $"[bold]{Size(plan.PeakBytes)}[/]", When(plan.PeakPhase), Markup.Escape($"held {Size(plan.HeldBytes)} + the {When(plan.PeakPhase)} phase's {Size(plan.PhaseBytes(plan.PeakPhase))}"));
        console.Write(table);
        console.WriteLine($"parameters: {MemoryPlan.Count(plan.TotalParameters)}, {MemoryPlan.Count(plan.TrainableParameters)} trainable ({100.0 * plan.TrainableParameters / plan.TotalParameters:F2}%)");

        long need = plan.PeakBytes * ranks;
        string perRanks = ranks > 1 ? $" ({ranks} ranks x {Size(plan.PeakBytes)}, all on this machine)" : "";
        if (memory is long available)
        {
            string against = measuredMemory ? $"this machine's {Size(available)} available" : $"the {Size(available)} given";
            console.WriteLine(need <= available
                ? $"fits: {Size(need)}{perRanks} of {against}, {Size(available - need)} to spare"
                : $"does not fit: {Size(need)}{perRanks} is {Size(need - available)} more than {against}");
        }
        else console.WriteLine($"needs {Size(need)}{perRanks} (this machine's memory is unknown: no /proc/meminfo)");
        console.WriteLine($"  ({AllocatorNote(Native.TorchRuntime.Malloc?.Applied == true, !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(MmapThreshold)))})");

        double total = cost.Sum(c => c.Flops);
        string split = cost.Count > 1 ? " (" + string.Join(", ", cost.Select(c => $"{c.Name} {Seconds(c.Flops / (gflops * 1e9))}")) + ")" : "";
        string unit = cost.Any(c => c.Name == "generation") ? "iteration" : "step";
        console.WriteLine($"time per {unit}: at least {Seconds(total / (gflops * 1e9))}{split}, {total / 1e12:F2} TFLOP at {gflops:F0} GFLOP/s");
        console.WriteLine($"  (every product at the fp32 matmul peak, {(measuredGflops ? "measured now" : "as given")}: real steps reach about half of it, generation less)");
    }

    /// <summary>Redirected output (a file, a README) is not cut to 80 columns: a table's notes stay on one line.</summary>
    public static void Widen(IAnsiConsole console)
    {
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 160);
    }

    static string When(MemoryPhase phase) => phase switch
    {
        MemoryPhase.Held => "held",
        MemoryPhase.Training => "training",
        MemoryPhase.OptimizerStep => "optimizer step",
        MemoryPhase.Generation => "generation",
        _ => "rollout scoring",
    };

    /// <summary>"12 KiB", "512 MiB", "6.31 GiB".</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("F0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / 1024.0).ToString("F0", CultureInfo.InvariantCulture) + " KiB",
    };

    static string Seconds(double seconds) => seconds switch
    {
        >= 3600 => $"{seconds / 3600:F1} h",
        >= 60 => $"{seconds / 60:F1} min",
        >= 1 => $"{seconds:F1} s",
        _ => $"{seconds * 1000:F0} ms",
    };
}
