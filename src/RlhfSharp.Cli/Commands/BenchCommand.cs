using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RlhfSharp.Cli.Benchmarks;
using RlhfSharp.Generation;
using RlhfSharp.IO;
using RlhfSharp.Models;
using Spectre.Console;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf bench`: speed measured against the machine's own matmul peak in the same run.</summary>
public static class BenchCommand
{
    static readonly Option<string?> Out = new("--out") { Description = "folder for the JSON results" };
    static readonly Option<int> NewTokens = new("--new-tokens") { Description = "tokens generated per row", DefaultValueFactory = _ => 128 };
    static readonly Option<int> PromptTokens = new("--prompt-tokens") { Description = "prompt length", DefaultValueFactory = _ => 16 };
    static readonly Option<int[]> Batches = new("--batch") { Description = "batch sizes to time", DefaultValueFactory = _ => [1, 16] };

    public static Command Build()
    {
        var bench = new Command("bench", "Benchmarks (not tests): throughput as ratios to this machine's measured limits.");
        var generate = new Command("generate",
            "Decode tokens/s of a GPT-2-shaped 23M-parameter model (d512, 6 layers, vocab 8192) with and without the KV cache, and the fp32 matmul peak.");
        foreach (var option in new Option[] { Out, NewTokens, PromptTokens, Batches }) generate.Options.Add(option);
        generate.SetAction(RunGenerate);
        bench.Subcommands.Add(generate);
        bench.Subcommands.Add(TrainingBench.Build(Out));
        bench.Subcommands.Add(PpoBench.Build(Out));
        bench.Subcommands.Add(DataParallelBench.Build(Out));
        return bench;
    }

    public static ModelConfig BenchModel23M() => new()
    {
        Family = ModelFamily.Gpt2, VocabSize = 8192, HiddenSize = 512, NumLayers = 6, NumHeads = 8, NumKeyValueHeads = 8,
        HeadDim = 64, IntermediateSize = 2048, MaxPositions = 1024, NormEpsilon = 1e-5, Activation = "gelu_new",
        TieWordEmbeddings = true, AttentionBias = true,
    };

    static int RunGenerate(ParseResult parsed)
    {
        CliApp.InitializeTorch(parsed);
        var console = CliApp.Console(parsed);
        int newTokens = parsed.GetValue(NewTokens), promptTokens = parsed.GetValue(PromptTokens);
        int threads = get_num_threads();
        manual_seed(0);

        double peak = MatmulPeak.Peak(BenchModel23M().HiddenSize);
        using var model = new CausalLanguageModel(BenchModel23M());
        long parameters = model.parameters().Sum(p => p.numel());
        var generator = new TextGenerator(model);
        var rows = new List<Dictionary<string, object>>();
        foreach (int batch in parsed.GetValue(Batches)!)
        {
            var prompts = Enumerable.Range(0, batch)
                .Select(r => (IReadOnlyList<int>)Enumerable.Range(0, promptTokens).Select(i => (r * 131 + i * 17) % 8192).ToList()).ToList();
            foreach (bool cache in new[] { true, false })
            {
                var options = new SamplingOptions { MaxNewTokens = newTokens, Greedy = true, StopAtEos = false, UseCache = cache };
                generator.Generate(prompts.Take(1).ToList(), options with { MaxNewTokens = 4 }); // warm-up
                var watch = Stopwatch.StartNew();
                generator.Generate(prompts, options);
                double seconds = watch.Elapsed.TotalSeconds;
                double tokensPerSecond = batch * newTokens / seconds;
                rows.Add(new()
                {
                    ["batch"] = batch, ["kv_cache"] = cache, ["new_tokens"] = newTokens, ["seconds"] = Math.Round(seconds, 3),
                    ["tokens_per_s"] = Math.Round(tokensPerSecond, 1),
                    // Decode FLOPs per new token ~ 2 x parameters (cached); the fraction shows how far per-op overhead keeps us from the peak.
                    ["fraction_of_matmul_peak"] = Math.Round(tokensPerSecond * 2.0 * parameters / (peak * 1e9), 4),
                });
            }
        }

        var table = new Table().Title($"decode, {parameters / 1e6:F1}M params, prompt {promptTokens}, {threads} threads, matmul peak {peak:F1} GFLOP/s");
        foreach (string column in new[] { "batch", "KV cache", "tokens/s", "seconds", "x peak (2·N·tok/s)" }) table.AddColumn(column);
        foreach (var row in rows)
            table.AddRow($"{row["batch"]}", (bool)row["kv_cache"] ? "yes" : "no", $"{row["tokens_per_s"]}", $"{row["seconds"]}", $"{row["fraction_of_matmul_peak"]}");
        console.Write(table);

        if (parsed.GetValue(Out) is { } outDir)
        {
            Directory.CreateDirectory(outDir);
            var report = new { machine = new { threads, matmul_peak_gflops = Math.Round(peak, 1) }, model_parameters = parameters, prompt_tokens = promptTokens, results = rows };
            AtomicFile.WriteAllText(Path.Combine(outDir, "bench-generate.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }
}
