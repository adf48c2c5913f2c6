using System.CommandLine;
using RlhfSharp.Cli.Benchmarks;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf bench [training|generation|ppo|checkpointing|all]`: speed against this machine's measured matmul peak and, with
/// --compare-pytorch, against the same work in PyTorch (bench/reference/gpt2_reference.py) in the same run.
/// `bench` alone runs `all`. `bench lora` (not part of `all`: it runs for many minutes) measures what LoRA saves.
/// </summary>
internal static class BenchCommand
{
    [Flags]
    enum Stages { Training = 1, Generation = 2, Ppo = 4, Checkpointing = 8, All = Training | Generation | Ppo | Checkpointing }

    static readonly Option<string[]> Config = new("--config", "--size")
    {
        Description = $"models to time: {string.Join(", ", BenchModels.AllNames)} (default: {string.Join(" and ", BenchModels.Names)} for training, "
            + $"{string.Join(" and ", new BenchSettings { Threads = 1 }.GenerationModels)} for generation)",
        AllowMultipleArgumentsPerToken = true,
    };
    static readonly Option<string?> Out = new("--out") { Description = "folder for bench.json" };
    static readonly Option<bool> ComparePytorch = new("--compare-pytorch")
    {
        Description = $"also run the PyTorch reference, alternating with ours, and check both give the same loss (needs: {PytorchReference.InstallHint})",
    };
    static readonly Option<int> Repeats = new("--repeats") { Description = "timed runs per case and side, after a warm-up", DefaultValueFactory = _ => 5 };
    static readonly Option<string?> Python = new("--python") { Description = "python3 with torch for --compare-pytorch (default: the first of python3, /usr/bin/python3 that imports torch)" };

    static readonly Option<int> TrainBatch = new("--batch-size") { Description = "examples per training step", DefaultValueFactory = _ => 4 };
    static readonly Option<int> Sequence = new("--sequence") { Description = "tokens per training example", DefaultValueFactory = _ => 256 };
    static readonly Option<int[]> DecodeBatches = new("--batch") { Description = "generation batch sizes", DefaultValueFactory = _ => [1, 16], AllowMultipleArgumentsPerToken = true };
    static readonly Option<int> PromptTokens = new("--prompt-tokens") { Description = "prompt length", DefaultValueFactory = _ => 16 };
    static readonly Option<int> NewTokens = new("--new-tokens") { Description = "tokens generated per row", DefaultValueFactory = _ => 128 };

    static readonly Option<int> PpoIterations = new("--iterations") { Description = "timed PPO iterations per layout", DefaultValueFactory = _ => 2 };
    static readonly Option<int> PpoBatch = new("--batch-size") { Description = "prompts per PPO iteration", DefaultValueFactory = _ => 16 };
    static readonly Option<int> PpoNewTokens = new("--new-tokens") { Description = "tokens generated per prompt", DefaultValueFactory = _ => 64 };
    static readonly Option<int> PpoShared = new("--shared-layers") { Description = "bottom layers frozen and shared in the hydra layout", DefaultValueFactory = _ => 4 };

    static readonly Option<int> CheckpointingBatch = new("--batch-size") { Description = "examples per SFT step", DefaultValueFactory = _ => new CheckpointingBench.Settings().Batch };
    static readonly Option<int> CheckpointingSequence = new("--sequence") { Description = "tokens per example", DefaultValueFactory = _ => new CheckpointingBench.Settings().Sequence };
    static readonly Option<string> CheckpointingData = new("--data")
    {
        Description = "preference data (HH-RLHF layout) whose chosen dialogues, tokenized with GPT-2's tokenizer, fill the rows",
        DefaultValueFactory = _ => CheckpointingBench.DefaultData,
    };
    static readonly Option<string[]> LoraRows = new("--rows")
    {
        Description = $"rows to measure: {string.Join(", ", LoraBenchSettings.AllRows)} (default: all)", AllowMultipleArgumentsPerToken = true,
    };
    static readonly Option<string> LoraModel = new("--config", "--size")
    {
        Description = $"model of the sft and ppo rows (one of {string.Join(", ", BenchModels.AllNames)})", DefaultValueFactory = _ => BenchModels.Gpt2Small,
    };
    static readonly Option<string> LoraLargeModel = new("--large-model")
    {
        Description = $"model of the large row ({BenchModels.Qwen25} if {BenchModels.Llama32} takes too long)", DefaultValueFactory = _ => BenchModels.Llama32,
    };
    static readonly Option<bool> LoraSeparateReward = new("--separate-reward")
    {
        Description = "large row: the reward model is a second model of its shape, not a reward adapter on the policy's base",
    };
    static readonly Option<int> LoraRank = new("--lora-r") { Description = "LoRA rank", DefaultValueFactory = _ => 16 };
    static readonly Option<double> LoraAlpha = new("--lora-alpha") { Description = "LoRA alpha (scale alpha/r)", DefaultValueFactory = _ => 16 };
    static readonly Option<string[]> LoraTarget = new("--lora-target")
    {
        Description = "modules that get adapters, as PEFT names them (all-linear: every projection of the blocks; GPT-2's c_attn, c_proj and c_fc)",
        DefaultValueFactory = _ => [Models.Lora.LoraSettings.AllLinear], AllowMultipleArgumentsPerToken = true,
    };
    static readonly Option<int> LoraSftBatch = new("--sft-batch-size") { Description = "SFT examples per step", DefaultValueFactory = _ => 4 };
    static readonly Option<int> LoraSequence = new("--sequence") { Description = "SFT tokens per example (dialogues that fill it)", DefaultValueFactory = _ => 512 };
    static readonly Option<int> LoraSftSteps = new("--repeats") { Description = "timed SFT steps, after a warm-up", DefaultValueFactory = _ => 2 };
    static readonly Option<int> LoraPpoBatch = new("--batch-size") { Description = "prompts per PPO iteration", DefaultValueFactory = _ => 16 };
    static readonly Option<int> LoraNewTokens = new("--new-tokens") { Description = "tokens generated per prompt (no early stop)", DefaultValueFactory = _ => 64 };
    static readonly Option<int> LoraPromptTokens = new("--prompt-tokens") { Description = "prompt tokens kept (cut from the left)", DefaultValueFactory = _ => 128 };
    static readonly Option<int> LoraMiniBatch = new("--mini-batch-size") { Description = "rollouts per PPO forward/backward", DefaultValueFactory = _ => 4 };
    static readonly Option<int> LoraPpoEpochs = new("--ppo-epochs") { Description = "optimisation passes per iteration (the trainer's default is 4; the peak does not change)", DefaultValueFactory = _ => 1 };
    static readonly Option<int> LoraIterations = new("--iterations") { Description = "PPO iterations per column (the split is the last one's)", DefaultValueFactory = _ => 1 };
    static readonly Option<int> LoraUnfrozen = new("--unfrozen-layers") { Description = "hydra: top blocks left trainable, the rest frozen and shared with the reference", DefaultValueFactory = _ => 2 };
    static readonly Option<string?> LoraData = new("--data") { Description = $"HH-RLHF dialogues (default: shared/data/{BenchData.DialoguesPath})" };
    static readonly Option<string?> LoraTokenizer = new("--tokenizer") { Description = $"folder with GPT-2's vocab.json and merges.txt (default: shared/data/{BenchData.TokenizerPath})" };
    static readonly Option<string> CaseSpec = new("--spec") { Required = true };
    static readonly Option<string> CaseResult = new("--result") { Required = true };

    public static Command Build()
    {
        var bench = new Command("bench", "Benchmarks (not tests): throughput against this machine's matmul peak and, with --compare-pytorch, against PyTorch. Alone: all of them.");
        AddCommonOptions(bench);
        bench.SetAction(parsed => Run(parsed, Stages.All));

        var training = new Command("training", "Training-step (forward, backward, AdamW) tokens/s and MFU of GPT-2-shaped 23M and 98M models.");
        foreach (var option in new Option[] { TrainBatch, Sequence }) training.Options.Add(option);
        training.SetAction(parsed => Run(parsed, Stages.Training));

        var generation = new Command("generation", "Cached greedy decode tokens/s at batch 1 and 16 (GPT-2 23M and Qwen2.5-0.5B shapes), the last new token's cost over the first's, and peak memory.");
        generation.Aliases.Add("generate");
        foreach (var option in new Option[] { DecodeBatches, PromptTokens, NewTokens }) generation.Options.Add(option);
        generation.SetAction(parsed => Run(parsed, Stages.Generation));

        var ppo = new Command("ppo", "PPO iterations' time split and peak memory, bottom layers shared with the reference vs a full reference copy.");
        foreach (var option in new Option[] { PpoIterations, PpoBatch, PpoNewTokens, PpoShared }) ppo.Options.Add(option);
        ppo.SetAction(parsed => Run(parsed, Stages.Ppo));

        var checkpointing = new Command("checkpointing",
            "Gradient checkpointing's peak memory and step time against none: SFT steps of a GPT-2-124M-shaped model on HH dialogues, alternating, in one run.");
        foreach (var option in new Option[] { CheckpointingBatch, CheckpointingSequence, CheckpointingData }) checkpointing.Options.Add(option);
        checkpointing.SetAction(parsed => Run(parsed, Stages.Checkpointing));

        var all = new Command("all", "Training, generation, PPO and gradient checkpointing in one run; the command for a full measurement (see the README's Benchmarks section).");
        all.SetAction(parsed => Run(parsed, Stages.All));

        foreach (var command in new[] { training, generation, ppo, checkpointing, all })
        {
            AddCommonOptions(command);
            bench.Subcommands.Add(command);
        }
        bench.Subcommands.Add(DataParallelBench.Build(Out));
        bench.Subcommands.Add(PlanBench.Build(Out));
        bench.Subcommands.Add(RealShapeBench.Build(Out, ComparePytorch, Python));
        bench.Subcommands.Add(PackingBench.Build(Out));

        var lora = new Command("lora", "LoRA vs full fine-tuning, each configuration in its own process: SFT tokens/s and peak memory, a PPO iteration's "
            + "time split and peak memory (full reference copy, hydra, LoRA) on a GPT-2-124M shape, and a Llama-3.2-1B-shaped LoRA PPO iteration against 24 GiB. Not part of `all`.");
        foreach (var option in new Option[] { LoraRows, LoraModel, LoraLargeModel, LoraSeparateReward, LoraRank, LoraAlpha, LoraTarget, LoraSftBatch, LoraSequence, LoraSftSteps,
            LoraPpoBatch, LoraNewTokens, LoraPromptTokens, LoraMiniBatch, LoraPpoEpochs, LoraIterations, LoraUnfrozen, LoraData, LoraTokenizer, Out })
            lora.Options.Add(option);
        lora.SetAction(RunLora);
        bench.Subcommands.Add(lora);

        var loraCase = new Command(BenchChild.CommandName, "One configuration of `bench lora`, in the process that suite starts for it.") { Hidden = true };
        loraCase.Options.Add(CaseSpec);
        loraCase.Options.Add(CaseResult);
        loraCase.SetAction(parsed =>
        {
            CliApp.InitializeTorch(parsed);
            BenchChild.RunCase(parsed.GetValue(CaseSpec)!, parsed.GetValue(CaseResult)!, message => parsed.InvocationConfiguration.Error.WriteLine(BenchChild.ProgressPrefix + message));
            return 0;
        });
        bench.Subcommands.Add(loraCase);
        return bench;
    }

    static int RunLora(ParseResult parsed)
    {
        var settings = new LoraBenchSettings
        {
            Rows = parsed.GetValue(LoraRows) is { Length: > 0 } rows ? rows : LoraBenchSettings.AllRows,
            Model = parsed.GetValue(LoraModel)!, LargeModel = parsed.GetValue(LoraLargeModel)!, SeparateReward = parsed.GetValue(LoraSeparateReward),
            Rank = parsed.GetValue(LoraRank), Alpha = parsed.GetValue(LoraAlpha),
            Target = parsed.GetValue(LoraTarget)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
            SftBatch = parsed.GetValue(LoraSftBatch), Sequence = parsed.GetValue(LoraSequence), SftSteps = parsed.GetValue(LoraSftSteps),
            PpoBatch = parsed.GetValue(LoraPpoBatch), NewTokens = parsed.GetValue(LoraNewTokens), PromptTokens = parsed.GetValue(LoraPromptTokens),
            MiniBatch = parsed.GetValue(LoraMiniBatch), PpoEpochs = parsed.GetValue(LoraPpoEpochs), Iterations = parsed.GetValue(LoraIterations),
            UnfrozenLayers = parsed.GetValue(LoraUnfrozen),
            Dialogues = BenchData.Resolve(parsed.GetValue(LoraData), BenchData.DialoguesPath, "--data"),
            TokenizerFolder = BenchData.Resolve(parsed.GetValue(LoraTokenizer), BenchData.TokenizerPath, "--tokenizer"),
        };
        settings.Validate();
        CliApp.InitializeTorch(parsed);
        int threads = get_num_threads();
        var report = new BenchReport(new BenchSettings { Threads = threads, Repeats = settings.SftSteps }) { LoraSettings = settings };
        report.Lora = LoraBench.Measure(settings, threads, message => parsed.InvocationConfiguration.Error.WriteLine(BenchChild.ProgressPrefix + message));
        report.Rows.AddRange(LoraBench.SftRows(settings, report.Lora.Sft));
        var console = CliApp.Console(parsed);
        PlanCommand.Widen(console); // five columns of notes: not cut to 80 columns when redirected
        report.Write(console);
        if (parsed.GetValue(Out) is { } outDir)
        {
            report.Save(outDir);
            parsed.InvocationConfiguration.Output.WriteLine($"wrote {Path.Combine(outDir, "bench.json")}");
        }
        return 0;
    }

    static void AddCommonOptions(Command command)
    {
        foreach (var option in new Option[] { Config, Out, ComparePytorch, Repeats, Python }) command.Options.Add(option);
    }

    static int Run(ParseResult parsed, Stages stages)
    {
        CliApp.InitializeTorch(parsed);
        var console = CliApp.Console(parsed);
        var settings = Settings(parsed);
        var report = new BenchReport(settings);
        var checkpointing = CheckpointingRows(parsed, stages); // reads its data before any stage runs
        void Progress(string message) => parsed.InvocationConfiguration.Error.WriteLine($"bench: {message}");

        using (var reference = StartReference(settings))
        {
            report.TorchVersion = reference?.TorchVersion;
            if (stages.HasFlag(Stages.Training) || stages.HasFlag(Stages.Generation))
            {
                var models = (stages.HasFlag(Stages.Training) ? settings.TrainingModels : []).Concat(settings.GenerationModels).Distinct();
                Progress("matmul peak");
                report.Rows.Add(MatmulPeak.Row(models.Select(BenchModels.Named), (long)settings.Batch * settings.Sequence, reference));
            }
            if (stages.HasFlag(Stages.Training))
                foreach (string model in settings.TrainingModels)
                {
                    Progress($"training step, {model}");
                    report.Rows.Add(TrainingBench.Measure(model, settings, reference, report.Rows[0]));
                }
            if (stages.HasFlag(Stages.Generation))
                foreach (string model in settings.GenerationModels)
                {
                    Progress($"generation, {model}");
                    report.Rows.AddRange(GenerationBench.Measure(model, settings, reference));
                }
            if (reference is not null)
            {
                Progress("same weights, same loss");
                report.LossCheck = LossCheck.Run(BenchModels.Small(), settings.Python!, settings.Threads, settings.Batch, settings.Sequence);
            }
        }
        if (stages.HasFlag(Stages.Ppo))
        {
            Progress("PPO iterations");
            report.PpoSettings = stages == Stages.Ppo
                ? new PpoBench.Settings(parsed.GetValue(PpoIterations), parsed.GetValue(PpoBatch), parsed.GetValue(PpoNewTokens), parsed.GetValue(PpoShared))
                : new PpoBench.Settings();
            report.Ppo = PpoBench.Measure(report.PpoSettings);
        }
        if (checkpointing is not null)
        {
            Progress("gradient checkpointing");
            report.Rows.Add(CheckpointingBench.Measure(checkpointing.Value.Settings, checkpointing.Value.Rows, settings.Repeats));
        }
        else if (stages.HasFlag(Stages.Checkpointing)) Progress($"gradient checkpointing skipped: no {CheckpointingBench.DefaultData} (bench checkpointing --data FILE runs it)");

        report.Write(console);
        if (parsed.GetValue(Out) is { } outDir)
        {
            report.Save(outDir);
            parsed.InvocationConfiguration.Output.WriteLine($"wrote {Path.Combine(outDir, "bench.json")}");
        }
        return report.LossCheck is { Passed: false } ? 1 : 0;
    }

    static BenchSettings Settings(ParseResult parsed)
    {
        string[] configs = parsed.GetValue(Config) ?? [];
        foreach (string name in configs) BenchModels.Named(name); // refuses unknown names before anything runs
        int repeats = parsed.GetValue(Repeats);
        if (repeats < 1) throw new RlhfException($"--repeats must be at least 1, got {repeats}");
        string? python = null;
        if (parsed.GetValue(ComparePytorch))
            python = PytorchReference.FindPython(parsed.GetValue(Python))
                ?? throw new RlhfException($"--compare-pytorch needs a python3 that imports torch; install Debian's: {PytorchReference.InstallHint}");
        var settings = new BenchSettings { Threads = get_num_threads(), Repeats = repeats, Python = python };
        if (configs.Length > 0) settings = settings with { TrainingModels = configs, GenerationModels = configs };
        if (parsed.GetResult(TrainBatch) is not null || parsed.GetResult(Sequence) is not null)
            settings = settings with { Batch = parsed.GetValue(TrainBatch), Sequence = parsed.GetValue(Sequence) };
        if (parsed.GetResult(DecodeBatches) is not null || parsed.GetResult(PromptTokens) is not null || parsed.GetResult(NewTokens) is not null)
            settings = settings with { DecodeBatches = parsed.GetValue(DecodeBatches)!, PromptTokens = parsed.GetValue(PromptTokens), NewTokens = parsed.GetValue(NewTokens) };
        return settings;
    }

    /// <summary>The checkpointing stage's settings and token rows; null without the stage, or in `all` when the default data is absent.</summary>
    static (CheckpointingBench.Settings Settings, int[][] Rows)? CheckpointingRows(ParseResult parsed, Stages stages)
    {
        if (!stages.HasFlag(Stages.Checkpointing)) return null;
        var settings = stages == Stages.Checkpointing
            ? new CheckpointingBench.Settings(parsed.GetValue(CheckpointingBatch), parsed.GetValue(CheckpointingSequence), parsed.GetValue(CheckpointingData)!)
            : new CheckpointingBench.Settings();
        if (stages != Stages.Checkpointing && !File.Exists(settings.Data)) return null;
        return (settings, CheckpointingBench.DialogueRows(settings.Data, settings.Batch, settings.Sequence));
    }

    static PytorchReference? StartReference(BenchSettings settings) =>
        settings.Python is null ? null : PytorchReference.Start(settings.Python, settings.Threads);
}
