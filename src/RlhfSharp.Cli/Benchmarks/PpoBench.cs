using System.CommandLine;
using System.Text.Json;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Ppo;
using Spectre.Console;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// `rlhf bench ppo`: PPO iterations of a GPT-2-shaped ~30M-parameter policy (d384, 6 layers, the GPT-2
/// vocabulary so the built-in tokenizer works offline) against a reward model of the same shape: the time
/// split (generation, reward scoring, reference and value passes, training), tokens/s and memory, with a
/// full reference copy and with the bottom layers frozen and shared (hydra).
/// </summary>
public static class PpoBench
{
    static readonly Option<int> Iterations = new("--iterations") { Description = "timed PPO iterations per layout", DefaultValueFactory = _ => 2 };
    static readonly Option<int> Batch = new("--batch-size") { Description = "prompts per iteration", DefaultValueFactory = _ => 16 };
    static readonly Option<int> NewTokens = new("--new-tokens") { Description = "tokens generated per prompt", DefaultValueFactory = _ => 64 };
    static readonly Option<int> Shared = new("--shared-layers") { Description = "bottom layers frozen and shared in the hydra layout", DefaultValueFactory = _ => 4 };

    public static Command Build(Option<string?> outOption)
    {
        var command = new Command("ppo", "One PPO iteration's time split and memory, full reference vs shared frozen layers.");
        foreach (var option in new Option[] { Iterations, Batch, NewTokens, Shared, outOption }) command.Options.Add(option);
        command.SetAction(parsed => Run(parsed, outOption));
        return command;
    }

    static ModelConfig Config() => Commands.BenchCommand.BenchModel23M() with
    {
        VocabSize = 50257, HiddenSize = 384, NumHeads = 6, NumKeyValueHeads = 6, IntermediateSize = 1536,
        EosTokenId = 50256, EmbeddingDropout = 0, AttentionDropout = 0, ResidualDropout = 0,
    };

    static int Run(ParseResult parsed, Option<string?> outOption)
    {
        CliApp.InitializeTorch(parsed);
        var tokenizer = TokenizerLoader.Gpt2BuiltIn();
        var prompts = Enumerable.Range(0, 256).Select(i => $"\n\nHuman: Tell me about topic number {i} and why it matters.\n\nAssistant:").ToList();
        var results = new List<Dictionary<string, object>>();
        foreach (int shared in new[] { parsed.GetValue(Shared), 0 })
        {
            manual_seed(0);
            var config = Config();
            using var policy = new PolicyWithValueHead(new CausalLanguageModel(config));
            using var rewardModel = new SequenceRewardModel(config);
            using IReferenceModel reference = shared > 0 ? new SharedBottomReference(policy.Policy, shared) : new FullReference(new CausalLanguageModel(config));
            var options = new PpoOptions
            {
                MaxSteps = parsed.GetValue(Iterations), BatchSize = parsed.GetValue(Batch), MaxNewTokens = parsed.GetValue(NewTokens),
                StopSequences = [], MiniBatchSize = 8, FreezeBottomLayers = shared, SaveEvery = 1000, SamplesEvery = 1000, MaxLength = 64,
            };
            string runDir = Path.Combine(Path.GetTempPath(), $"rlhf-bench-ppo-{Guid.NewGuid():N}");
            var summary = new PpoTrainer(policy, reference, tokenizer, new RewardModelScorer(rewardModel, tokenizer, 256), options, runDir).Run(prompts, [], resume: false);
            Directory.Delete(runDir, recursive: true);
            var last = summary.History[^1];
            results.Add(new()
            {
                ["shared_layers"] = shared,
                ["policy_parameters_m"] = Math.Round(policy.parameters().Sum(p => p.numel()) / 1e6, 1),
                ["trainable_parameters_m"] = Math.Round(policy.parameters().Where(p => p.requires_grad).Sum(p => p.numel()) / 1e6, 1),
                ["reference_own_mb"] = Math.Round(reference.ParameterBytes / 1e6, 1),
                ["seconds_per_iteration"] = Math.Round(summary.History.Average(h => h["seconds"]), 2),
                ["generation"] = Math.Round(last["time_generation"], 3), ["scoring"] = Math.Round(last["time_scoring"], 3),
                ["reference"] = Math.Round(last["time_reference"], 3), ["training"] = Math.Round(last["time_training"], 3),
                ["response_tokens_per_s"] = Math.Round(summary.History.Average(h => h["tokens_per_s"]), 1),
                ["peak_rss_mb"] = Math.Round(PeakResidentBytes() / 1e6, 0),
            });
        }
        var table = new Table().Title($"PPO iteration, batch {parsed.GetValue(Batch)}, {parsed.GetValue(NewTokens)} new tokens, {get_num_threads()} threads");
        table.AddColumn("");
        foreach (var layout in results) table.AddColumn((int)layout["shared_layers"] > 0 ? $"bottom {layout["shared_layers"]} shared" : "full reference");
        foreach (string metric in results[0].Keys.Skip(1)) table.AddRow([metric, .. results.Select(r => $"{r[metric]}")]);
        CliApp.Console(parsed).Write(table);
        parsed.InvocationConfiguration.Output.WriteLine("peak_rss_mb is the process high-water mark so far (the shared layout runs first).");
        if (parsed.GetValue(outOption) is { } outDir)
        {
            Directory.CreateDirectory(outDir);
            AtomicFile.WriteAllText(Path.Combine(outDir, "bench-ppo.json"), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    /// <summary>VmHWM from /proc/self/status: the most resident memory this process has used.</summary>
    static long PeakResidentBytes()
    {
        string? line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:")) : null;
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
