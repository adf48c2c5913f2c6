using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Native;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// What gradient checkpointing saves and costs: SFT optimizer steps of a GPT-2-124M-shaped model (random weights) on
/// rows of HH dialogues tokenized with GPT-2's tokenizer, with and without checkpointing, alternating in one process
/// after a warm-up of each (so AdamW's state exists before either is measured): each step's peak resident memory and
/// time, and their ratios.
/// </summary>
internal static class CheckpointingBench
{
    /// <param name="Data">Preference data (HH-RLHF's layout or rm-static's) whose chosen dialogues fill the rows.</param>
    public sealed record Settings(int Batch = 8, int Sequence = 512, string Data = DefaultData);

    /// <summary>HH-RLHF's helpful-base test split where the project's shared data sits beside the repository.</summary>
    public const string DefaultData = "../shared/data/hh-rlhf/helpful-base/test.jsonl.gz";

    /// <param name="rows">The batch, from <see cref="DialogueRows"/>.</param>
    public static BenchRow Measure(Settings settings, int[][] rows, int repeats)
    {
        manual_seed(0);
        using var model = new CausalLanguageModel(BenchModels.Gpt2SmallShape());
        using var step = new TrainingStep(model, rows);

        (double Seconds, long PeakBytes, long StartBytes) Step(bool checkpoint)
        {
            GradientCheckpointing.Set(model, checkpoint);
            ProcessMemory.ReleaseFreed();
            PeakMemory.Reset();
            long start = ProcessMemory.CurrentResidentBytes();
            double seconds = step.Run().Seconds;
            return (seconds, PeakMemory.ResidentBytes(), start);
        }
        var (checkpointed, plainRuns) = Alternation.Run(repeats, () => Step(true), () => Step(false));
        var plain = plainRuns!;

        double Seconds(IEnumerable<(double Seconds, long, long)> runs) => BenchStatistics.Median(runs.Select(r => r.Seconds).ToList());
        static double Megabytes(double bytes) => Math.Round(bytes / 1e6, 0);
        long checkpointedPeak = checkpointed.Max(r => r.PeakBytes), plainPeak = plain.Max(r => r.PeakBytes);
        // What the step itself adds to the weights, gradients and AdamW state already resident when it starts.
        long checkpointedStepBytes = checkpointed.Max(r => r.PeakBytes - r.StartBytes), plainStepBytes = plain.Max(r => r.PeakBytes - r.StartBytes);
        double checkpointedSeconds = Seconds(checkpointed), plainSeconds = Seconds(plain);
        string notes = $"without: {Megabytes(plainPeak)} MB; ratio {(double)checkpointedPeak / plainPeak:F2} (the step's own {Megabytes(checkpointedStepBytes)} vs "
            + $"{Megabytes(plainStepBytes)} MB); step {checkpointedSeconds:F1} s vs {plainSeconds:F1} s: time x{checkpointedSeconds / plainSeconds:F2}";
        return new BenchRow($"SFT step {step.Parameters / 1e6:F1}M GPT-2-124M-shaped, {settings.Batch}x{settings.Sequence}, gradient checkpointing", "peak MB", Megabytes(checkpointedPeak),
            null, null, notes, new Dictionary<string, object>
            {
                ["model"] = "gpt2-124m-shaped", ["parameters"] = step.Parameters, ["batch"] = settings.Batch, ["sequence"] = settings.Sequence,
                ["data"] = settings.Data,
                ["checkpointed_peak_bytes"] = checkpointed.Select(r => r.PeakBytes).ToList(), ["plain_peak_bytes"] = plain.Select(r => r.PeakBytes).ToList(),
                ["checkpointed_step_bytes"] = checkpointed.Select(r => r.PeakBytes - r.StartBytes).ToList(),
                ["plain_step_bytes"] = plain.Select(r => r.PeakBytes - r.StartBytes).ToList(),
                ["checkpointed_step_seconds"] = checkpointed.Select(r => r.Seconds).ToList(), ["plain_step_seconds"] = plain.Select(r => r.Seconds).ToList(),
                ["peak_ratio"] = (double)checkpointedPeak / plainPeak, ["time_ratio"] = checkpointedSeconds / plainSeconds,
            });
    }

    /// <summary>
    /// <paramref name="batch"/> rows of <paramref name="sequence"/> tokens: the chosen dialogues of <paramref name="path"/>
    /// in file order, tokenized with GPT-2's tokenizer, each followed by its end-of-text token, cut into rows.
    /// </summary>
    internal static int[][] DialogueRows(string path, int batch, int sequence)
    {
        if (batch < 1 || sequence < 2) throw new RlhfException($"batch {batch} x sequence {sequence}: need at least 1 x 2 tokens");
        var tokenizer = TokenizerLoader.Gpt2BuiltIn();
        int endOfText = tokenizer.Special.EosId ?? throw new InvalidOperationException("GPT-2's tokenizer has no end-of-text token");
        var tokens = new List<int>();
        foreach (var pair in DatasetReader.ReadPreferences(path).Examples)
        {
            if (tokens.Count >= batch * sequence) break;
            tokens.AddRange(tokenizer.Encode(pair.Prompt + pair.Chosen));
            tokens.Add(endOfText);
        }
        if (tokens.Count < batch * sequence)
            throw new RlhfException($"{path}: its dialogues hold {tokens.Count:N0} tokens, fewer than the {batch} x {sequence} the step trains on");
        return Enumerable.Range(0, batch).Select(b => tokens.GetRange(b * sequence, sequence).ToArray()).ToArray();
    }
}
