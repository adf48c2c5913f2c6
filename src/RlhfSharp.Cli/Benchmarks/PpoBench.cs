using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Ppo;
using Spectre.Console;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// PPO iterations of a GPT-2-shaped ~30M-parameter policy (d384, 6 layers, the GPT-2 vocabulary so the
/// built-in tokenizer works offline) against a reward model of the same shape: the time split (generation,
/// reward scoring, reference and value passes, training), tokens/s and peak memory, with the bottom layers
/// frozen and shared with the reference (hydra) and with a full reference copy.
/// </summary>
internal static class PpoBench
{
    public sealed record Settings(int Iterations = 2, int Batch = 16, int NewTokens = 64, int SharedLayers = 4);

    static ModelConfig Config() => BenchModels.Small() with
    {
        VocabSize = 50257,
        HiddenSize = 384,
        NumHeads = 6,
        NumKeyValueHeads = 6,
        IntermediateSize = 1536,
        EosTokenId = 50256,
    };

    /// <summary>One result per layout: the shared-bottom one first, then the full reference.</summary>
    public static List<Dictionary<string, object>> Measure(Settings settings)
    {
        var tokenizer = TokenizerLoader.Gpt2BuiltIn();
        var prompts = Enumerable.Range(0, 256).Select(i => $"\n\nHuman: Tell me about topic number {i} and why it matters.\n\nAssistant:").ToList();
        var results = new List<Dictionary<string, object>>();
        foreach (int shared in new[] { settings.SharedLayers, 0 })
        {
            PeakMemory.Reset();
            manual_seed(0);
            var config = Config();
            using var policy = new PolicyWithValueHead(new CausalLanguageModel(config));
            using var rewardModel = new SequenceRewardModel(config);
            using IReferenceModel reference = shared > 0 ? new SharedBottomReference(policy.Policy, shared) : new FullReference(new CausalLanguageModel(config));
            var options = new PpoOptions
            {
                MaxSteps = settings.Iterations, BatchSize = settings.Batch, Sampling = new SamplingOptions { MaxNewTokens = settings.NewTokens },
                MiniBatchSize = 8, FreezeBottomLayers = shared, SaveEvery = 1000, SamplesEvery = 1000, MaxLength = 64,
            };
            var split = Run(new PpoModels(policy, reference, tokenizer, new RewardModelScorer(rewardModel, tokenizer, 256)), options, prompts);
            results.Add(new()
            {
                ["shared_layers"] = shared,
                ["policy_parameters_m"] = Math.Round(policy.parameters().Sum(p => p.numel()) / 1e6, 1),
                ["trainable_parameters_m"] = Math.Round(policy.parameters().Where(p => p.requires_grad).Sum(p => p.numel()) / 1e6, 1),
                ["reference_own_mb"] = Math.Round(reference.ParameterBytes / 1e6, 1),
                ["seconds_per_iteration"] = split.MeanSeconds,
                ["generation_s"] = split.Generation, ["scoring_s"] = split.Scoring,
                ["reference_s"] = split.Reference, ["training_s"] = split.Training,
                ["generation_share"] = Math.Round(split.GenerationShare, 2),
                ["response_tokens_per_s"] = split.ResponseTokensPerSecond,
                ["peak_rss_mb"] = Math.Round(PeakMemory.ResidentBytes() / 1e6, 0),
            });
        }
        return results;
    }

    /// <summary>Runs the trainer for <c>options.MaxSteps</c> iterations in a temporary folder (removed after) and returns the time split.</summary>
    public static PpoSplit Run(PpoModels models, PpoOptions options, IReadOnlyList<string> prompts)
    {
        string runDir = Path.Combine(Path.GetTempPath(), $"rlhf-bench-ppo-{Guid.NewGuid():N}");
        try
        {
            return PpoSplit.Of(new PpoTrainer(models, options, runDir).Run(prompts, [], resume: false));
        }
        finally
        {
            if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        }
    }

    public static Table Table(Settings settings, IReadOnlyList<Dictionary<string, object>> results)
    {
        var table = new Table().Title($"PPO iteration, batch {settings.Batch}, {settings.NewTokens} new tokens, {get_num_threads()} threads (split: the last iteration)");
        table.AddColumn("");
        foreach (var layout in results) table.AddColumn((int)layout["shared_layers"] > 0 ? $"bottom {layout["shared_layers"]} shared" : "full reference");
        foreach (string metric in results[0].Keys.Skip(1)) table.AddRow([metric, .. results.Select(r => $"{r[metric]}")]);
        return table;
    }
}
