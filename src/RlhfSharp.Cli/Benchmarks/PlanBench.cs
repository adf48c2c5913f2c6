using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Generation;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Planning;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Sft;
using Spectre.Console;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// `rlhf bench plan`: `rlhf plan`'s memory estimate against the peak resident memory of the real thing, a GPT-2-124M-shaped
/// model (random weights, GPT-2's own dropouts for SFT) through two SFT steps and one PPO iteration, full, with the bottom
/// layers frozen (hydra) and with LoRA. Each case runs in a fresh process of its own, so one case's high-water mark cannot
/// hide another's.
/// </summary>
internal static class PlanBench
{
    /// <summary>A measured configuration: the plan's settings and the model they apply to.</summary>
    sealed record Case(string Name, PlanSettings Settings);

    static readonly Option<string[]> Cases = new("--case") { Description = "cases to run (default: all)", AllowMultipleArgumentsPerToken = true };
    static readonly Option<int> Sequence = new("--sequence") { Description = "SFT tokens per example", DefaultValueFactory = _ => 512 };
    static readonly Option<int> SftBatch = new("--batch-size") { Description = "SFT examples per step", DefaultValueFactory = _ => 4 };
    static readonly Option<int> PromptTokens = new("--prompt-tokens") { Description = "PPO prompt tokens", DefaultValueFactory = _ => 128 };
    static readonly Option<int> NewTokens = new("--new-tokens") { Description = "PPO tokens generated per prompt", DefaultValueFactory = _ => 64 };
    static readonly Option<int> PpoBatch = new("--ppo-batch-size") { Description = "PPO prompts per iteration (mini-batches of half)", DefaultValueFactory = _ => 16 };
    static readonly Option<string?> Child = new("--child") { Description = "run one case in this process and print its result as JSON (what the parent starts)", Hidden = true };

    /// <summary>Bottom layers frozen in the hydra cases: trlx's HH run trained the top 2 of its layers.</summary>
    const int HydraFrozen = 10;

    /// <summary>The LoRA cases' rank, on every projection (all-linear, LoRA's default here), alpha 32, no dropout.</summary>
    const int LoraRank = 16;

    static LoraSettings Lora(PlanSettings settings) => new(settings.LoraRank, 2.0 * settings.LoraRank, settings.LoraDropout, settings.LoraTargets);

    public static Command Build(Option<string?> outOption)
    {
        var command = new Command("plan",
            "`rlhf plan`'s memory estimate against measured peak memory: a GPT-2-124M-shaped model through SFT steps and a PPO iteration, full, hydra and LoRA, each case in a fresh process.");
        foreach (var option in new Option[] { Cases, Sequence, SftBatch, PromptTokens, NewTokens, PpoBatch, Child, outOption }) command.Options.Add(option);
        command.SetAction(parsed => parsed.GetValue(Child) is { } name ? RunChild(parsed, name) : RunAll(parsed, outOption));
        return command;
    }

    /// <summary>GPT-2 small as published (124,439,808 parameters, dropout 0.1 everywhere).</summary>
    public static ModelConfig Gpt2Small() => new()
    {
        Family = ModelFamily.Gpt2, VocabSize = 50257, HiddenSize = 768, NumLayers = 12, NumHeads = 12, NumKeyValueHeads = 12, HeadDim = 64,
        IntermediateSize = 3072, MaxPositions = 1024, NormEpsilon = 1e-5, Activation = "gelu_new", TieWordEmbeddings = true, AttentionBias = true,
        EmbeddingDropout = 0.1, AttentionDropout = 0.1, ResidualDropout = 0.1, EosTokenId = 50256,
    };

    static List<Case> AllCases(ParseResult parsed)
    {
        var sft = new PlanSettings { Method = PlanMethod.Sft, BatchSize = parsed.GetValue(SftBatch), MaxLength = parsed.GetValue(Sequence) };
        int batch = parsed.GetValue(PpoBatch);
        var ppo = new PlanSettings
        {
            Method = PlanMethod.Ppo, BatchSize = batch, MiniBatchSize = Math.Max(1, batch / 2), PpoEpochs = 1,
            MaxLength = parsed.GetValue(PromptTokens), MaxNewTokens = parsed.GetValue(NewTokens),
        };
        return
        [
            new("sft full", sft), new("sft hydra", sft with { FreezeBottomLayers = HydraFrozen }), new("sft lora", sft with { LoraRank = LoraRank }),
            new("ppo full", ppo), new("ppo hydra", ppo with { FreezeBottomLayers = HydraFrozen }), new("ppo lora", ppo with { LoraRank = LoraRank }),
        ];
    }

    static int RunAll(ParseResult parsed, Option<string?> outOption)
    {
        var all = AllCases(parsed);
        string[] chosen = parsed.GetValue(Cases) is { Length: > 0 } names ? names : [.. all.Select(c => Slug(c.Name))];
        foreach (string name in chosen)
            if (!all.Any(c => Slug(c.Name) == name))
                throw new RlhfException(InvalidOptionException.Describe(Cases.Name, name, $"must be one of {string.Join(", ", all.Select(c => Slug(c.Name)))}"));
        var error = parsed.InvocationConfiguration.Error;
        var rows = new List<Dictionary<string, object>>();
        foreach (var @case in all.Where(c => chosen.Contains(Slug(c.Name))))
        {
            error.WriteLine($"bench: plan, {@case.Name} (a fresh process)");
            var measured = RunInChild(parsed, Slug(@case.Name));
            long estimate = MemoryPlan.Estimate(Gpt2Small(), @case.Settings).PeakBytes;
            rows.Add(new Dictionary<string, object>
            {
                ["case"] = @case.Name,
                ["estimate_bytes"] = estimate,
                ["measured_bytes"] = measured.GetProperty("peak_bytes").GetInt64(),
                ["ratio"] = Math.Round(measured.GetProperty("peak_bytes").GetInt64() / (double)estimate, 3),
                ["runtime_bytes"] = measured.GetProperty("runtime_bytes").GetInt64(),
                ["seconds"] = Math.Round(measured.GetProperty("seconds").GetDouble(), 1),
                ["settings"] = Describe(@case.Settings),
            });
        }

        var table = new Table().Title($"plan's peak memory estimate vs measured peak RSS, GPT-2-124M shape, {get_num_threads()} threads, each case in its own process");
        table.AddColumns("case", "settings", "estimate", "measured", "measured/estimate", "runtime before the model", "seconds");
        foreach (var row in rows)
            table.AddRow([.. new[]
            {
                (string)row["case"], (string)row["settings"], PlanCommand.Size((long)row["estimate_bytes"]), PlanCommand.Size((long)row["measured_bytes"]),
                $"{row["ratio"]:F2}", PlanCommand.Size((long)row["runtime_bytes"]), $"{row["seconds"]}",
            }.Select(Markup.Escape)]);
        var console = CliApp.Console(parsed);
        PlanCommand.Widen(console);
        console.Write(table);
        if (parsed.GetValue(outOption) is { } outDir)
        {
            Directory.CreateDirectory(outDir);
            string path = Path.Combine(outDir, "bench-plan.json");
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            parsed.InvocationConfiguration.Output.WriteLine($"wrote {path}");
        }
        return 0;
    }

    static string Slug(string name) => name.Replace(' ', '-');

    static string Describe(PlanSettings s) =>
        (s.Method == PlanMethod.Ppo ? $"{s.BatchSize} x ({s.MaxLength} + {s.MaxNewTokens}), mini-batch {s.MiniBatchSize}" : $"{s.BatchSize} x {s.MaxLength}")
        + (s.UsesLora ? $", LoRA r {s.LoraRank} {string.Join(",", s.LoraTargets)}" : s.FreezeBottomLayers > 0 ? $", bottom {s.FreezeBottomLayers} frozen" : "");

    /// <summary>Runs this command again for one case in a new process (the same dll, the same options) and reads its JSON line.</summary>
    static JsonElement RunInChild(ParseResult parsed, string name)
    {
        string dll = typeof(PlanBench).Assembly.Location;
        string host = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { dll, "bench", "plan", Child.Name, name, "--threads", get_num_threads().ToString() })
            start.ArgumentList.Add(arg);
        foreach (var option in new Option[] { Sequence, SftBatch, PromptTokens, NewTokens, PpoBatch })
            if (parsed.GetResult(option) is { Implicit: false } given)
            {
                start.ArgumentList.Add(option.Name);
                start.ArgumentList.Add(given.Tokens[0].Value);
            }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string? last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (process.ExitCode != 0 || last is null || !last.StartsWith('{'))
            throw new RlhfException($"bench plan: the {name} case's process failed (exit {process.ExitCode}): {FailureLine(error.Result)}");
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    /// <summary>The line of a failed child's standard error that says why: the exception's or error's line, not the stack's last frame.</summary>
    internal static string FailureLine(string error)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.FirstOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal) && !l.StartsWith("at ", StringComparison.Ordinal))
            ?? lines.LastOrDefault() ?? "no message";
    }

    /// <summary>One case in this process: the runtime's resident memory before the model, the run, the high-water mark.</summary>
    static int RunChild(ParseResult parsed, string name)
    {
        CliApp.InitializeTorch(parsed);
        var @case = AllCases(parsed).FirstOrDefault(c => Slug(c.Name) == name) ?? throw new RlhfException($"bench plan: no case '{name}'");
        long runtime = PeakMemory.ResidentBytes();
        var watch = Stopwatch.StartNew();
        long peak = @case.Settings.Method == PlanMethod.Ppo ? PpoIteration(@case.Settings) : SftSteps(@case.Settings);
        parsed.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { peak_bytes = peak, runtime_bytes = runtime, seconds = watch.Elapsed.TotalSeconds }));
        return 0;
    }

    /// <summary>
    /// Two SFT steps as the trainer takes them (the second with AdamW's state allocated): padded batches (the last row one token
    /// shorter), loss on every token, clipping at 1; returns the peak resident bytes.
    /// </summary>
    static long SftSteps(PlanSettings settings)
    {
        manual_seed(0);
        var config = Gpt2Small();
        using var model = new CausalLanguageModel(config);
        LayerFreezing.FreezeBottom(model, config, settings.FreezeBottomLayers);
        if (settings.UsesLora) LoraModel.Attach(model, Lora(settings));
        model.train();
        var objective = new SftObjective(model);
        using var optimizer = new DataParallelOptimizer(model, new SftOptions(), SingleProcess.Instance);
        var batch = BenchInputs.TrainingIds(settings.BatchSize, settings.MaxLength, config.VocabSize)
            .Select((ids, row) => row == settings.BatchSize - 1 && settings.BatchSize > 1 ? ids[..^1] : ids)
            .Select(ids => new EncodedSft(ids, ids, 0, Truncation.None)).ToList();
        for (int step = 0; step < 2; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            var loss = objective.Forward(batch).Loss;
            loss.backward();
            optimizer.ReduceAndClip(1.0);
            optimizer.Step();
        }
        return PeakMemory.ResidentBytes();
    }

    /// <summary>
    /// One PPO iteration through the trainer (rollouts of random weights: no stop sequence, so every response is the full
    /// length; prompts cut to the prompt length; one pass of two mini-batches, so the second trains with AdamW's state
    /// allocated), against a reward model of the same shape. The peak is read when the trainer first writes to its log
    /// (iteration 1's samples, after training and before the checkpoint is saved).
    /// </summary>
    static long PpoIteration(PlanSettings settings)
    {
        manual_seed(0);
        var config = Gpt2Small() with { EmbeddingDropout = 0, AttentionDropout = 0, ResidualDropout = 0 }; // as `rlhf ppo` loads its models
        var tokenizer = TokenizerLoader.Gpt2BuiltIn();
        string filler = string.Join(" ", Enumerable.Repeat("Tell me about this topic and why it matters to people like me.", 40));
        var prompts = Enumerable.Range(0, settings.BatchSize).Select(i => $"\n\nHuman: {i} {filler}\n\nAssistant:").ToList();
        // With LoRA, `rlhf ppo`'s one base: the policy's adapters and value head on it, the reference is it with the adapters off.
        var oneBase = settings.UsesLora ? LoraPolicy.Create(new CausalLanguageModel(config), Lora(settings), "gpt2") : null;
        using var policy = oneBase?.Policy ?? new PolicyWithValueHead(new CausalLanguageModel(config), settings.SeparateValueModel);
        using var rewardModel = new SequenceRewardModel(config);
        using IReferenceModel reference = (IReferenceModel?)oneBase?.Reference
            ?? (settings.FreezeBottomLayers > 0 ? new SharedBottomReference(policy.Policy, settings.FreezeBottomLayers) : new FullReference(new CausalLanguageModel(config)));
        var options = new PpoOptions
        {
            MaxSteps = 1, BatchSize = settings.BatchSize, MiniBatchSize = settings.MiniBatchSize, PpoEpochs = settings.PpoEpochs,
            MaxLength = settings.MaxLength, FreezeBottomLayers = settings.FreezeBottomLayers, HeldOutFraction = 0,
            Sampling = PpoOptions.RolloutSampling with { MaxNewTokens = settings.MaxNewTokens, StopSequences = [] },
        };
        string runDir = Path.Combine(Path.GetTempPath(), $"rlhf-bench-plan-{Guid.NewGuid():N}");
        var sink = new PeakAtFirstMessage();
        try
        {
            new PpoTrainer(new PpoModels(policy, reference, tokenizer, new RewardModelScorer(rewardModel, tokenizer, config.MaxPositions)), options, runDir, sink)
                .Run(prompts, [], resume: false);
        }
        finally
        {
            if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        }
        return sink.Peak ?? PeakMemory.ResidentBytes();
    }

    /// <summary>A progress sink that reads the resident high-water mark when the run first writes a message.</summary>
    sealed class PeakAtFirstMessage : IProgressSink, IStepProgress
    {
        public long? Peak { get; private set; }
        public TextWriter Log => new Recorder(this);
        public IStepProgress Start(string description, long totalSteps, long startStep) => this;
        public void Report(long step, IReadOnlyDictionary<string, double> liveMetrics) { }
        public void Dispose() { }

        sealed class Recorder(PeakAtFirstMessage sink) : StringWriter
        {
            public override void Write(char value) => sink.Peak ??= PeakMemory.ResidentBytes();
            public override void Write(string? value) => sink.Peak ??= PeakMemory.ResidentBytes();
        }
    }
}
