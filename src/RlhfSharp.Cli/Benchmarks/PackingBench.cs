using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Data;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;
using Spectre.Console;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// `rlhf bench packing`: padded against packed micro-batches (pack_sequences) for SFT and the reward model on real
/// lengths (HH dialogues, GPT-2's tokenizer, cut to --max-length as the trainers cut them). Padding's share of the token
/// slots over a whole epoch of the trainers' length-grouped batches (<see cref="BatchPlan"/>), padded and packed, and of
/// batches in file order (held-out evaluation's before it went in length order) and length-ordered ones (<see cref="BatchPlan.ByLength"/>,
/// held-out evaluation's now) for comparison; then tokens/s of forward + backward over the epoch's first --steps batches, padded
/// and packed alternating (warm-up each first), and the largest difference of the two losses on those batches.
/// </summary>
internal static class PackingBench
{
    static readonly Option<string?> Model = new("--model") { Description = "model folder (GPT-2 layout) to time (default: a random GPT-2 of 2 layers, d64, vocabulary 50,257)" };
    static readonly Option<string?> Data = new("--data") { Description = $"HH-RLHF dialogues (default: shared/data/{BenchData.DialoguesPath})" };
    static readonly Option<string?> Tokenizer = new("--tokenizer") { Description = $"folder with GPT-2's vocab.json and merges.txt (default: shared/data/{BenchData.TokenizerPath})" };
    static readonly Option<int> Batch = new("--batch-size") { Description = "examples (reward: pairs) per micro-batch", DefaultValueFactory = _ => 8 };
    static readonly Option<int> MaxLength = new("--max-length") { Description = "tokens per example, cut as the trainers cut them", DefaultValueFactory = _ => 256 };
    static readonly Option<int> Steps = new("--steps") { Description = "micro-batches timed per run (the epoch's first)", DefaultValueFactory = _ => 8 };
    static readonly Option<int> Repeats = new("--repeats") { Description = "timed runs per side, alternating, after a warm-up", DefaultValueFactory = _ => 3 };

    public static Command Build(Option<string?> outOption)
    {
        var command = new Command("packing",
            "Padded vs packed (pack_sequences) SFT and reward micro-batches on HH dialogue lengths: padding share over an epoch and forward+backward tokens/s, alternating.");
        foreach (var option in new Option[] { Model, Data, Tokenizer, Batch, MaxLength, Steps, Repeats, outOption }) command.Options.Add(option);
        command.SetAction(parsed => Run(parsed, outOption));
        return command;
    }

    /// <summary>One trainer's measurement.</summary>
    sealed record Result(string Trainer, double PaddedShare, double PackedShare, double FileOrderShare, double FileOrderPackedShare, double LengthOrderShare, double PaddedTokensPerSecond, double PackedTokensPerSecond,
        List<double> PaddedSeconds, List<double> PackedSeconds, long TimedTokens, double LossDifference);

    static int Run(ParseResult parsed, Option<string?> outOption)
    {
        CliApp.InitializeTorch(parsed);
        int batch = parsed.GetValue(Batch), maxLength = parsed.GetValue(MaxLength), steps = parsed.GetValue(Steps), repeats = parsed.GetValue(Repeats);
        if (batch < 1 || steps < 1 || repeats < 1 || maxLength < 2)
            throw new RlhfException($"--batch-size {batch}, --steps {steps}, --repeats {repeats} must be at least 1 and --max-length {maxLength} at least 2");
        string data = BenchData.Resolve(parsed.GetValue(Data), BenchData.DialoguesPath, "--data");
        string tokenizerDir = BenchData.Resolve(parsed.GetValue(Tokenizer), BenchData.TokenizerPath, "--tokenizer");
        var tokenizer = TokenizerLoader.FromDirectory(tokenizerDir) ?? throw new RlhfException($"--tokenizer: no tokenizer files in {tokenizerDir}");
        var encoder = new ExampleEncoder(tokenizer);
        var sft = DatasetReader.ReadSft(data).Examples.Select(e => encoder.EncodeSft(e, maxLength)).ToList();
        var pairs = DatasetReader.ReadPreferences(data).Examples.Select(p => encoder.EncodePreference(p, maxLength)).ToList();
        string? modelDir = parsed.GetValue(Model);
        var config = modelDir is null ? DefaultConfig() : ModelConfig.FromDirectory(modelDir);
        void Progress(string message) => parsed.InvocationConfiguration.Error.WriteLine($"bench packing: {message}");

        Progress($"{sft.Count} SFT examples, {pairs.Count} pairs from {data}; SFT");
        manual_seed(0);
        Result sftResult;
        using (var lm = modelDir is null ? new CausalLanguageModel(config) : CausalLanguageModel.FromPretrained(modelDir))
        {
            lm.train();
            sftResult = Measure("sft", sft.Select(e => new[] { e.InputIds.Length }).ToList(), batch, steps, repeats,
                pack => new SftObjective(lm, packSequences: pack), sft);
        }
        Progress("reward");
        manual_seed(0);
        Result rewardResult;
        using (var rm = modelDir is null ? new SequenceRewardModel(config) : SequenceRewardModel.InitializeFrom(modelDir))
        {
            rm.train();
            rewardResult = Measure("reward", pairs.Select(p => new[] { p.Chosen.InputIds.Length, p.Rejected.InputIds.Length }).ToList(), batch, steps, repeats,
                pack => new RewardObjective(rm, new RewardOptions { PackSequences = pack }), pairs);
        }

        // Padding share over an epoch of training batches (grouped), of batches in file order and in length order (held-out evaluation before and now).
        var padding = new Table().Title($"padding share on {Path.GetFileName(data)}: batch {batch}, max length {maxLength}")
            .AddColumns("trainer", "training: padded", "training: packed", "file order: padded", "file order: packed", "length order: padded");
        var speed = new Table().Title($"padded vs packed micro-batches: {config.NumLayers} layers, d{config.HiddenSize}, vocabulary {config.VocabSize}, "
            + $"{get_num_threads()} threads; medians of {repeats} alternating runs of {steps} micro-batches (forward + backward)")
            .AddColumns("trainer", "tokens/s padded", "tokens/s packed", "packed / padded", "largest loss difference");
        foreach (var r in new[] { sftResult, rewardResult })
        {
            padding.AddRow(r.Trainer, $"{r.PaddedShare:P1}", $"{r.PackedShare:P1}", $"{r.FileOrderShare:P1}", $"{r.FileOrderPackedShare:P1}", $"{r.LengthOrderShare:P1}");
            speed.AddRow(r.Trainer, $"{r.PaddedTokensPerSecond:F0}", $"{r.PackedTokensPerSecond:F0}", $"{r.PackedTokensPerSecond / r.PaddedTokensPerSecond:F2}x", $"{r.LossDifference:E1}");
        }
        CliApp.Console(parsed).Write(padding);
        CliApp.Console(parsed).Write(speed);
        if (parsed.GetValue(outOption) is { } outDir)
        {
            Directory.CreateDirectory(outDir);
            var report = new { model = modelDir ?? "random gpt2 2x64, vocab 50257", data, batch, max_length = maxLength, steps, repeats, threads = get_num_threads(), results = new[] { sftResult, rewardResult } };
            AtomicFile.WriteAllText(Path.Combine(outDir, "bench-packing.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            parsed.InvocationConfiguration.Output.WriteLine($"wrote {Path.Combine(outDir, "bench-packing.json")}");
        }
        return 0;
    }

    /// <param name="sequenceLengths">Per example, the lengths of the sequences it puts in a micro-batch (SFT: one; reward: chosen and rejected).</param>
    static Result Measure<TExample>(string trainer, List<int[]> sequenceLengths, int batch, int steps, int repeats,
        Func<bool, ITrainingObjective<TExample>> objective, IReadOnlyList<TExample> examples)
    {
        // The trainers group by an example's longest sequence (ITrainingObjective.Length).
        var plan = BatchPlan.Epoch(sequenceLengths.Select(l => l.Max()).ToList(), batch, seed: 0, epoch: 0);
        var fileOrder = Enumerable.Range(0, examples.Count).ToArray();
        List<int> Lengths(int[] indices) => indices.SelectMany(i => sequenceLengths[i]).ToList();
        double Share(IEnumerable<int[]> batches, bool packed)
        {
            long tokens = 0, slots = 0;
            foreach (var lengths in batches.Select(Lengths))
            {
                tokens += lengths.Sum();
                slots += (long)(packed ? Packing.Place(lengths).Rows : lengths.Count) * lengths.Max();
            }
            return 1.0 - (double)tokens / slots;
        }

        var timed = plan.Take(steps).Select(b => b.Select(i => examples[i]).ToList()).ToList();
        long timedTokens = plan.Take(steps).Sum(b => (long)Lengths(b).Sum());
        ITrainingObjective<TExample> padded = objective(false), packedObjective = objective(true);
        double lossDifference = 0;
        double Pass(ITrainingObjective<TExample> side, bool compare)
        {
            var watch = Stopwatch.StartNew();
            for (int s = 0; s < timed.Count; s++)
            {
                using var scope = NewDisposeScope();
                manual_seed(s); // the same dropout stream each run (the layouts still draw different masks)
                var loss = side.Forward(timed[s]);
                loss.Loss.backward();
                if (compare)
                {
                    manual_seed(s);
                    using var noGrad = no_grad();
                    double other = padded.Forward(timed[s]).Loss.item<float>();
                    lossDifference = Math.Max(lossDifference, Math.Abs(loss.Loss.item<float>() - other));
                }
            }
            side.Model.zero_grad();
            return watch.Elapsed.TotalSeconds;
        }
        // The losses are compared in eval mode (no dropout) on the packed warm-up pass, outside the timed runs.
        packedObjective.Model.eval();
        Pass(packedObjective, compare: true);
        packedObjective.Model.train();
        var (paddedSeconds, packedSeconds) = Alternation.Run(repeats, () => Pass(padded, false), () => Pass(packedObjective, false));
        return new Result(trainer, Share(plan, packed: false), Share(plan, packed: true), Share(fileOrder.Chunk(batch), packed: false), Share(fileOrder.Chunk(batch), packed: true),
            Share(BatchPlan.ByLength(sequenceLengths.Select(l => l.Max()).ToList(), batch), packed: false),
            timedTokens / BenchStatistics.Median(paddedSeconds), timedTokens / BenchStatistics.Median(packedSeconds!), paddedSeconds, packedSeconds!, timedTokens, lossDifference);
    }

    /// <summary>GPT-2's layout at a tiny size with its real vocabulary, no dropout: the head's [tokens, 50,257] logits dominate, as in a first SFT run.</summary>
    static ModelConfig DefaultConfig() => ModelConfig.FromJson(new JsonObject
    {
        ["model_type"] = "gpt2", ["vocab_size"] = 50257, ["n_embd"] = 64, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 512, ["n_inner"] = null,
        ["activation_function"] = "gelu_new", ["layer_norm_epsilon"] = 1e-5, ["eos_token_id"] = 50256, ["bos_token_id"] = 50256, ["tie_word_embeddings"] = true,
        ["attn_pdrop"] = 0.0, ["embd_pdrop"] = 0.0, ["resid_pdrop"] = 0.0,
    });
}
