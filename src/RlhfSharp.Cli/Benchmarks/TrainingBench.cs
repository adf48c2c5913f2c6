using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Data;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Sft;
using Spectre.Console;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// `rlhf bench training`: one SFT optimizer step (forward, backward, AdamW) through the same objective
/// and optimizer the trainer uses, as tokens/s and model-FLOPs utilisation against the matmul peak
/// measured in the same run (training FLOPs ~ 6 x parameters x tokens).
/// </summary>
public static class TrainingBench
{
    static readonly Option<int> Sequence = new("--sequence") { Description = "tokens per example", DefaultValueFactory = _ => 256 };
    static readonly Option<int> Batch = new("--batch-size") { Description = "examples per step", DefaultValueFactory = _ => 4 };
    static readonly Option<int> Steps = new("--steps") { Description = "timed steps (after one warm-up step)", DefaultValueFactory = _ => 5 };
    static readonly Option<string> Size = new("--size") { Description = "model: 23m (d512, 6 layers, vocab 8192) or 98m (d768, 12 layers, vocab 16384)", DefaultValueFactory = _ => "23m" };

    public static Command Build(Option<string?> outOption)
    {
        var command = new Command("training", "SFT training-step tokens/s and MFU of a GPT-2-shaped model, against the fp32 matmul peak.");
        foreach (var option in new Option[] { Sequence, Batch, Steps, Size, outOption }) command.Options.Add(option);
        command.SetAction(parsed => Run(parsed, outOption));
        return command;
    }

    static ModelConfig Model(string size) => size switch
    {
        "23m" => BenchCommand.BenchModel23M(),
        "98m" => BenchCommand.BenchModel23M() with { VocabSize = 16384, HiddenSize = 768, NumLayers = 12, NumHeads = 12, NumKeyValueHeads = 12, IntermediateSize = 3072 },
        _ => throw new RlhfException($"--size must be 23m or 98m, got '{size}'"),
    };

    static int Run(ParseResult parsed, Option<string?> outOption)
    {
        var config = Model(parsed.GetValue(Size)!) with { EmbeddingDropout = 0, AttentionDropout = 0, ResidualDropout = 0 };
        int sequence = parsed.GetValue(Sequence), batch = parsed.GetValue(Batch), steps = parsed.GetValue(Steps);
        CliApp.InitializeTorch(parsed);
        manual_seed(0);
        double peak = MatmulPeak.Peak(config.HiddenSize, (long)batch * sequence);

        using var model = new CausalLanguageModel(config);
        long parameters = model.parameters().Sum(p => p.numel());
        var objective = new SftObjective(model);
        var random = new Random(0);
        var examples = Enumerable.Range(0, batch).Select(_ =>
        {
            int[] ids = Enumerable.Range(0, sequence).Select(_ => random.Next(config.VocabSize)).ToArray();
            return new EncodedSft(ids, ids, 0, Truncation.None);
        }).ToList();
        using var optimizer = OptimizerFactory.AdamW(model, new SftOptions());
        model.train();

        double Step()
        {
            var watch = Stopwatch.StartNew();
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            objective.Forward(examples).Loss.backward();
            optimizer.step();
            return watch.Elapsed.TotalSeconds;
        }
        Step();
        var times = Enumerable.Range(0, steps).Select(_ => Step()).Order().ToList();
        double median = times[times.Count / 2];
        double tokensPerSecond = batch * sequence / median;
        double mfu = 6.0 * parameters * tokensPerSecond / (peak * 1e9);

        var table = new Table().Title($"SFT step, {parameters / 1e6:F1}M params, batch {batch} x {sequence}, {get_num_threads()} threads");
        table.AddColumns("matmul peak GFLOP/s", "median step s", "tokens/s", "MFU (6·N·tok/s / peak)");
        table.AddRow($"{peak:F1}", $"{median:F3}", $"{tokensPerSecond:F1}", $"{mfu:F3}");
        CliApp.Console(parsed).Write(table);
        if (parsed.GetValue(outOption) is { } outDir)
        {
            Directory.CreateDirectory(outDir);
            AtomicFile.WriteAllText(Path.Combine(outDir, $"bench-training-{parsed.GetValue(Size)}.json"), JsonSerializer.Serialize(new
            {
                threads = get_num_threads(), matmul_peak_gflops = Math.Round(peak, 1), parameters, batch, sequence,
                step_seconds = times, tokens_per_s = Math.Round(tokensPerSecond, 1), mfu = Math.Round(mfu, 3),
            }, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }
}
