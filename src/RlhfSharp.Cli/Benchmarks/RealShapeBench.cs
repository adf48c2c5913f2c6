using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Native;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// `rlhf bench real-shape`: the headline rows at a real shape. A GPT-2-124M-shaped model (random weights, seeded) on HH
/// dialogues tokenized with GPT-2's tokenizer at their own lengths: SFT tokens/s over successive batches, and one PPO
/// iteration (sampling with no early stop, reward model of the same shape, full reference copy), each with its peak
/// resident memory; with --compare-pytorch, eager PyTorch (bench/reference, the system allocator) on the same token ids,
/// alternating step by step for SFT, from the same initial weights, with the same-loss check.
/// </summary>
internal static class RealShapeBench
{
    static readonly Option<string> Model = new("--config", "--size")
    {
        Description = $"model (a GPT-2 shape: {string.Join(", ", BenchModels.Names.Append(BenchModels.Gpt2Small).Append(BenchModels.Tiny))})", DefaultValueFactory = _ => BenchModels.Gpt2Small,
    };
    static readonly Option<bool> Quick = new("--quick") { Description = "a smoke run in seconds: the tiny GPT-2-vocabulary model, 2 dialogues of up to 32 tokens, a PPO iteration of 2 prompts x 4 new tokens (options given beside it still apply)" };
    static readonly Option<int> SftBatch = new("--batch-size") { Description = "SFT dialogues per step", DefaultValueFactory = _ => 8 };
    static readonly Option<int> MaxLength = new("--max-length") { Description = "SFT tokens kept per dialogue (longer ones cut as the trainer cuts them)", DefaultValueFactory = _ => 256 };
    static readonly Option<int> SftSteps = new("--sft-steps") { Description = "timed SFT steps, each on the next dialogues, after one warm-up step", DefaultValueFactory = _ => 3 };
    static readonly Option<int> PpoBatch = new("--ppo-batch-size") { Description = "prompts per PPO iteration", DefaultValueFactory = _ => 16 };
    static readonly Option<int> NewTokens = new("--new-tokens") { Description = "tokens generated per prompt (no early stop)", DefaultValueFactory = _ => 128 };
    static readonly Option<int> PromptTokens = new("--prompt-tokens") { Description = "prompt tokens kept (cut from the left)", DefaultValueFactory = _ => 128 };
    static readonly Option<int> MiniBatch = new("--mini-batch-size") { Description = "rollouts per PPO forward/backward", DefaultValueFactory = _ => 4 };
    static readonly Option<int> PpoEpochs = new("--ppo-epochs") { Description = "optimisation passes per PPO iteration (the trainer's default is 4)", DefaultValueFactory = _ => 1 };
    static readonly Option<int> Iterations = new("--iterations") { Description = "PPO iterations per side (the split is the last one's)", DefaultValueFactory = _ => 1 };
    static readonly Option<string?> Data = new("--data") { Description = $"HH-RLHF dialogues (default: shared/data/{BenchData.DialoguesPath})" };
    static readonly Option<string?> Tokenizer = new("--tokenizer") { Description = $"folder with GPT-2's vocab.json and merges.txt (default: shared/data/{BenchData.TokenizerPath})" };

    public static Command Build(Option<string?> outOption, Option<bool> comparePytorch, Option<string?> python)
    {
        var command = new Command("real-shape", "The headline rows at a real shape: SFT tokens/s and one PPO iteration (batch 16, 128 new tokens) of a GPT-2-124M-shaped "
            + "model on HH dialogues in GPT-2 tokens at their own lengths, peak memory beside; with --compare-pytorch against eager PyTorch on the same token ids, "
            + "with the same-loss check. Not part of `all`.");
        foreach (var option in new Option[] { Model, Quick, SftBatch, MaxLength, SftSteps, PpoBatch, NewTokens, PromptTokens, MiniBatch, PpoEpochs, Iterations, Data, Tokenizer,
            outOption, comparePytorch, python })
            command.Options.Add(option);
        command.SetAction(parsed => Run(parsed, outOption, comparePytorch, python));
        return command;
    }

    static RealShapeSettings Settings(ParseResult parsed)
    {
        var settings = new RealShapeSettings
        {
            Dialogues = BenchData.Resolve(parsed.GetValue(Data), BenchData.DialoguesPath, "--data"),
            TokenizerFolder = BenchData.Resolve(parsed.GetValue(Tokenizer), BenchData.TokenizerPath, "--tokenizer"),
        };
        if (parsed.GetValue(Quick)) settings = settings.Quick();
        // Options given on the command line win over --quick's small values.
        int Given(Option<int> option, int current) => parsed.GetResult(option) is { Implicit: false } ? parsed.GetValue(option) : current;
        return settings with
        {
            Model = parsed.GetResult(Model) is { Implicit: false } ? parsed.GetValue(Model)! : settings.Model,
            SftBatch = Given(SftBatch, settings.SftBatch),
            MaxLength = Given(MaxLength, settings.MaxLength),
            SftSteps = Given(SftSteps, settings.SftSteps),
            PpoBatch = Given(PpoBatch, settings.PpoBatch),
            NewTokens = Given(NewTokens, settings.NewTokens),
            PromptTokens = Given(PromptTokens, settings.PromptTokens),
            MiniBatch = Given(MiniBatch, settings.MiniBatch),
            PpoEpochs = Given(PpoEpochs, settings.PpoEpochs),
            Iterations = Given(Iterations, settings.Iterations),
        };
    }

    static int Run(ParseResult parsed, Option<string?> outOption, Option<bool> comparePytorch, Option<string?> pythonOption)
    {
        var settings = Settings(parsed);
        settings.Validate();
        string? python = null;
        if (parsed.GetValue(comparePytorch))
            python = PytorchReference.FindPython(parsed.GetValue(pythonOption))
                ?? throw new RlhfException($"--compare-pytorch needs a python3 that imports torch; install Debian's: {PytorchReference.InstallHint}");
        var tokenizer = settings.Tokenizer();
        var batches = SftBatches(settings, tokenizer);
        var prompts = Prompts(settings);
        CliApp.InitializeTorch(parsed);
        int threads = get_num_threads();
        void Progress(string message) => parsed.InvocationConfiguration.Error.WriteLine(BenchChild.ProgressPrefix + message);

        var report = new BenchReport(new BenchSettings { Threads = threads, Repeats = settings.SftSteps, Python = python });
        var (sft, check) = MeasureSft(settings, batches, python, threads, Progress, version => report.TorchVersion = version);
        report.Rows.Add(sft);
        report.LossCheck = check;
        report.Rows.Add(MeasurePpo(settings, tokenizer, prompts, python, threads, Progress));
        report.Title = $"real shape: RlhfSharp{(python is null ? "" : $" vs eager PyTorch {report.TorchVersion} (system allocator)")}, {threads} threads, "
            + "HH dialogues in GPT-2 tokens; SFT: all timed steps, alternating step by step; PPO: the last iteration of each side";

        var console = CliApp.Console(parsed);
        Commands.PlanCommand.Widen(console); // long notes: not cut to 80 columns when redirected
        report.Write(console);
        if (parsed.GetValue(outOption) is { } outDir)
        {
            report.Save(outDir);
            parsed.InvocationConfiguration.Output.WriteLine($"wrote {Path.Combine(outDir, "bench.json")}");
        }
        return report.LossCheck is { Passed: false } ? 1 : 0;
    }

    /// <summary>
    /// The SFT batches, warm-up first: the dialogues of the file in order, each encoded as the SFT trainer encodes it (prompt
    /// tokens labelled -100) and cut to <see cref="RealShapeSettings.MaxLength"/>, <see cref="RealShapeSettings.SftBatch"/> a step.
    /// </summary>
    internal static List<List<EncodedSft>> SftBatches(RealShapeSettings settings, ITextTokenizer tokenizer)
    {
        var encoder = new ExampleEncoder(tokenizer);
        int needed = (settings.SftSteps + 1) * settings.SftBatch;
        var examples = DatasetReader.ReadSft(settings.Dialogues).Examples.Take(needed).Select(e => encoder.EncodeSft(e, settings.MaxLength)).ToList();
        if (examples.Count < needed)
            throw new RlhfException($"--data: {settings.Dialogues} has {examples.Count} dialogues, {needed} needed ({settings.SftSteps} steps and a warm-up of {settings.SftBatch})");
        return examples.Chunk(settings.SftBatch).Select(batch => batch.ToList()).ToList();
    }

    /// <summary>The first <see cref="RealShapeSettings.PpoBatch"/> prompts of the file (the dialogues up to their last "Assistant:").</summary>
    internal static List<string> Prompts(RealShapeSettings settings)
    {
        var prompts = DatasetReader.ReadPrompts(settings.Dialogues).Examples.Take(settings.PpoBatch).ToList();
        if (prompts.Count < settings.PpoBatch)
            throw new RlhfException($"--data: {settings.Dialogues} has {prompts.Count} prompts, {settings.PpoBatch} needed (--ppo-batch-size)");
        return prompts;
    }

    static PytorchReference? Start(string? python, int threads, Action<string> torchVersion)
    {
        if (python is null) return null;
        var reference = PytorchReference.Start(python, threads);
        torchVersion(reference.TorchVersion);
        return reference;
    }

    static double Megabytes(long bytes) => Math.Round(bytes / 1e6, 0);

    static (BenchRow Row, LossCheckResult? Check) MeasureSft(RealShapeSettings settings, List<List<EncodedSft>> batches, string? python, int threads,
        Action<string> progress, Action<string> torchVersion)
    {
        var config = BenchModels.Named(settings.Model);
        using var reference = Start(python, threads, torchVersion);
        ProcessMemory.ReleaseFreed();
        manual_seed(0);
        using var model = new CausalLanguageModel(config);
        if (reference is not null)
        {
            // Both sides start from the same weights: the reference loads ours.
            string weights = Path.Combine(Path.GetTempPath(), $"rlhf-bench-weights-{Guid.NewGuid():N}");
            try
            {
                model.SavePretrained(weights);
                reference.LoadSft(weights);
            }
            finally
            {
                if (Directory.Exists(weights)) Directory.Delete(weights, recursive: true);
            }
        }
        using var step = new TrainingStep(model, batches[0]);
        // Each side's peak from here on: weights, gradients, AdamW state and the steps' activations (loading the weights is not counted).
        PeakMemory.Reset();
        reference?.PeakResidentBytes(reset: true);

        progress($"SFT warm-up step, {settings.Model}");
        var (_, oursBefore) = step.Run(batches[0]);
        double oursAfter = step.Loss(batches[0]);
        (double Before, double After)? theirsCheck = null;
        if (reference is not null)
        {
            var (_, before) = reference.SftStep(batches[0]);
            theirsCheck = (before, reference.SftLoss(batches[0]));
        }

        var ours = new List<(double Seconds, double Loss)>();
        var theirs = new List<(double Seconds, double Loss)>();
        for (int i = 1; i < batches.Count; i++)
        {
            progress($"SFT step {i} of {batches.Count - 1}");
            ours.Add(step.Run(batches[i]));
            if (reference is not null) theirs.Add(reference.SftStep(batches[i]));
        }
        long oursPeak = PeakMemory.ResidentBytes();
        long? theirsPeak = reference?.PeakResidentBytes();

        var timed = batches.Skip(1).ToList();
        long tokens = timed.Sum(b => b.Sum(e => (long)e.InputIds.Length));
        long padded = timed.Sum(b => (long)b.Count * b.Max(e => e.InputIds.Length));
        double oursSeconds = ours.Sum(r => r.Seconds);
        double? theirsSeconds = reference is null ? null : theirs.Sum(r => r.Seconds);
        double stepLossDifference = reference is null ? 0 : ours.Zip(theirs, (a, b) => Math.Abs(a.Loss - b.Loss)).DefaultIfEmpty(0).Max();
        string notes = $"peak RSS {Megabytes(oursPeak)} MB" + (theirsPeak is { } p ? $" (PyTorch {Megabytes(p)} MB)" : "")
            + $"; {tokens / timed.Count} tokens a step, {1 - (double)tokens / padded:P0} padding";
        long parameters = model.parameters().Sum(t => t.numel());
        var row = new BenchRow($"SFT {BenchModels.Label(settings.Model, parameters)}, HH batch {settings.SftBatch} up to {settings.MaxLength} tokens, {timed.Count} steps",
            "tokens/s", tokens / oursSeconds, tokens / theirsSeconds, oursSeconds / theirsSeconds, notes, new Dictionary<string, object?>
            {
                ["model"] = settings.Model, ["parameters"] = parameters, ["tokens"] = tokens, ["padded_tokens"] = padded,
                ["step_tokens"] = timed.Select(b => b.Sum(e => (long)e.InputIds.Length)).ToList(),
                ["step_seconds"] = ours.Select(r => r.Seconds).ToList(), ["step_losses"] = ours.Select(r => r.Loss).ToList(),
                ["pytorch_step_seconds"] = reference is null ? null : theirs.Select(r => r.Seconds).ToList(),
                ["pytorch_step_losses"] = reference is null ? null : theirs.Select(r => r.Loss).ToList(),
                // Step by step, so that one step slowed by the machine's other work shows as such.
                ["step_time_ratios"] = reference is null ? null : ours.Zip(theirs, (a, b) => a.Seconds / b.Seconds).ToList(),
                ["max_step_loss_difference"] = reference is null ? null : stepLossDifference,
                ["peak_rss_mb"] = Megabytes(oursPeak), ["pytorch_peak_rss_mb"] = theirsPeak is { } q ? Megabytes(q) : null,
            }.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!));
        var check = theirsCheck is { } t ? new LossCheckResult(oursBefore, oursAfter, t.Before, t.After) : null;
        return (row, check);
    }

    static BenchRow MeasurePpo(RealShapeSettings settings, ITextTokenizer tokenizer, List<string> prompts, string? python, int threads, Action<string> progress)
    {
        var config = BenchModels.Named(settings.Model);
        // The prompt ids the trainer samples from (cut from the left as it cuts them), for the reference to sample from too.
        var promptIds = prompts.Select(p => PromptFit.CutLeft(tokenizer.Encode(p), settings.PromptTokens)).ToList();
        using var reference = Start(python, threads, _ => { });
        ProcessMemory.ReleaseFreed();
        manual_seed(0);
        using var policy = new PolicyWithValueHead(new CausalLanguageModel(config));
        var copy = new CausalLanguageModel(config);
        copy.load_state_dict(policy.Policy.state_dict());
        using IReferenceModel frozen = new FullReference(copy);
        using var rewardModel = new SequenceRewardModel(config);
        reference?.BuildPpo(config);
        PeakMemory.Reset();
        reference?.PeakResidentBytes(reset: true);

        var options = new PpoOptions
        {
            MaxSteps = settings.Iterations, BatchSize = settings.PpoBatch, MiniBatchSize = settings.MiniBatch, PpoEpochs = settings.PpoEpochs, MaxLength = settings.PromptTokens,
            // Every row generates the same number of tokens on both sides: no stop at EOS or at a stop sequence.
            Sampling = new SamplingOptions { MaxNewTokens = settings.NewTokens, StopAtEos = false },
            SaveEvery = 1_000_000, EvalEvery = 1_000_000, SamplesEvery = 1_000_000,
        };
        progress($"PPO: {settings.Iterations} iteration(s), ours");
        // The reward model reads what the policy saw: the kept prompt tokens, the response and the EOS it appends.
        var scorer = new RewardModelScorer(rewardModel, tokenizer, settings.PromptTokens + settings.NewTokens + 1);
        var ours = PpoBench.Run(new PpoModels(policy, frozen, tokenizer, scorer), options, prompts);
        long oursPeak = PeakMemory.ResidentBytes();

        PpoReferenceSplit? theirs = null;
        if (reference is not null)
            for (int i = 0; i < settings.Iterations; i++)
            {
                progress($"PPO: iteration {i + 1} of {settings.Iterations}, PyTorch");
                theirs = reference.PpoIteration(config, promptIds, settings.NewTokens, settings.MiniBatch, settings.PpoEpochs);
            }
        long? theirsPeak = reference?.PeakResidentBytes();

        static string Split(double generation, double scoring, double passes, double training) => $"{generation:F1}/{scoring:F1}/{passes:F1}/{training:F1}";
        string notes = $"split generation/scoring/passes/training: ours {Split(ours.Generation, ours.Scoring, ours.Reference, ours.Training)} s"
            + (theirs is { } s ? $", PyTorch {Split(s.Generation, s.Scoring, s.Reference, s.Training)} s" : "")
            + $"; peak RSS {Megabytes(oursPeak)} MB" + (theirsPeak is { } p ? $" (PyTorch {Megabytes(p)} MB)" : "");
        long parameters = policy.Policy.parameters().Sum(t => t.numel());
        return new BenchRow($"PPO iteration {BenchModels.Label(settings.Model, parameters)}, batch {settings.PpoBatch}, {settings.NewTokens} new tokens, "
            + $"prompts up to {settings.PromptTokens}, mini-batch {settings.MiniBatch}, {settings.PpoEpochs} epoch(s), full reference copy",
            "s", ours.Seconds, theirs?.Seconds, theirs is { } r ? ours.Seconds / r.Seconds : null, notes, new Dictionary<string, object?>
            {
                ["model"] = settings.Model, ["parameters"] = parameters, ["prompt_tokens"] = promptIds.Select(p => p.Count).ToList(),
                ["seconds"] = ours.Seconds, ["generation_s"] = ours.Generation, ["scoring_s"] = ours.Scoring, ["reference_s"] = ours.Reference, ["training_s"] = ours.Training,
                ["pytorch"] = theirs, ["peak_rss_mb"] = Megabytes(oursPeak), ["pytorch_peak_rss_mb"] = theirsPeak is { } q ? Megabytes(q) : null,
            }.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!));
    }
}
