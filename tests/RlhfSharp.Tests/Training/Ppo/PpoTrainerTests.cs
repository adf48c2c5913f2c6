using System.Text.Json.Nodes;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Training;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Metrics;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>PPO end to end on a tiny character-level policy with a reward for the letter "a".</summary>
[Collection(GlobalRandomStateCollection.Name)]
public class PpoTrainerTests
{
    /// <summary>Reward: the share of "a" in the response (a random policy emits it ~1/30 of the time).</summary>
    internal sealed class LetterReward : IRewardFunction
    {
        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) =>
            samples.Select(s => s.Completion).Select(r => r.Length == 0 ? 0 : r.Count(c => c == 'a') / (double)r.Length).ToList();
    }

    internal static readonly IReadOnlyList<string> Prompts =
        Enumerable.Range(0, 64).Select(i => $"question {(char)('b' + i % 20)}{(char)('c' + i % 7)}?").ToList();

    /// <summary>A tiny <paramref name="variant"/> over <see cref="CharacterTokenizer"/>'s 30 ids, without dropout.</summary>
    internal static ModelConfig CharacterConfig(string variant)
    {
        var json = TinyModels.ConfigJson(variant);
        json["vocab_size"] = 30;
        json["eos_token_id"] = CharacterTokenizer.Eos;
        foreach (string dropout in new[] { "embd_pdrop", "attn_pdrop", "resid_pdrop" }) json[dropout] = 0.0;
        return ModelConfig.FromJson(json);
    }

    static (PolicyWithValueHead Policy, IReferenceModel Reference) Models(int seed = 4, string variant = "gpt2")
    {
        var config = CharacterConfig(variant);
        manual_seed(seed);
        var policy = new CausalLanguageModel(config);
        var reference = new CausalLanguageModel(config);
        reference.load_state_dict(policy.state_dict());
        return (new PolicyWithValueHead(policy), new FullReference(reference));
    }

    internal static PpoOptions Options(long iterations) => new()
    {
        MaxSteps = iterations, BatchSize = 16, Sampling = new SamplingOptions { MaxNewTokens = 8 }, LearningRate = 3e-3, MiniBatchSize = 8, PpoEpochs = 2,
        EvalEvery = 1000, SaveEvery = 1000, SamplesEvery = 1000, MaxLength = 32, Seed = 9,
    };

    [Fact]
    public void Reward_rises_while_kl_stays_bounded()
    {
        var (policy, reference) = Models();
        using var p = policy;
        using var r = reference;
        string dir = TestPaths.NewTempDirectory();
        // A strong, fast-adapting KL controller, so the test can hold KL near its target while reward rises.
        var options = Options(20);
        options = YamlConfig.Merge(options, new Dictionary<string, object?> { ["InitKlCoef"] = 0.2, ["TargetKl"] = (double?)4.0, ["Horizon"] = 100L });
        var summary = new PpoTrainer(new PpoModels(policy, reference, new CharacterTokenizer(), new LetterReward()), options, dir).Run(Prompts, [], resume: false);
        double early = summary.History.Take(3).Average(h => h["reward_mean"]);
        double late = summary.History.TakeLast(5).Average(h => h["reward_mean"]);
        Assert.True(late > early + 0.15, $"reward {early:F3} -> {late:F3}");
        // KL is held near its target of 4 nats: never far above it, and back near it at the end.
        Assert.All(summary.History, h => Assert.True(h["kl"] < 12, $"KL {h["kl"]:F2}"));
        Assert.True(summary.History.TakeLast(5).Average(h => h["kl"]) < 8);
        Assert.NotEqual(0.2, summary.History[^1]["beta"], 3);
        Assert.True(File.Exists(Path.Combine(dir, "config.json")) && File.Exists(Path.Combine(dir, PolicyWithValueHead.ValueHeadFile)));
        Assert.Equal(20, MetricsWriter.ReadJsonl(Path.Combine(dir, "metrics.jsonl")).Count);
        Assert.True(File.Exists(Path.Combine(dir, "reward_curve.png")));
        foreach (string key in new[] { "reward_std", "kl_k3", "beta", "entropy", "policy_loss", "value_loss", "clip_fraction", "approx_kl", "response_length", "time_generation", "time_training", "tokens_per_s" })
            Assert.True(summary.History[^1].ContainsKey(key), key);
    }

    public static TheoryData<string> AllVariants() => new(TinyModels.Variants);

    /// <summary>One PPO iteration on each dialect (prompts of ~12 characters plus 8 new tokens: past the tiny Mistral's
    /// window of 3) changes the policy, which saves and loads back as trained.</summary>
    [Theory, MemberData(nameof(AllVariants))]
    public void Ppo_trains_every_dialect_and_saves_a_loadable_policy(string variant)
    {
        var (policy, reference) = Models(variant: variant);
        using var p = policy;
        using var r = reference;
        var before = policy.Policy.state_dict().ToDictionary(w => w.Key, w => w.Value.detach().clone());
        string dir = TestPaths.NewTempDirectory();
        new PpoTrainer(new PpoModels(policy, reference, new CharacterTokenizer(), new LetterReward()), Options(1), dir).Run(Prompts, [], resume: false);
        var trained = policy.Policy.state_dict();
        Assert.Contains(trained, w => !w.Value.eq(before[w.Key]).all().item<bool>());
        using var loaded = CausalLanguageModel.FromPretrained(dir);
        Assert.Equal(TinyModels.Config(variant).Family, loaded.Config.Family);
        var saved = loaded.state_dict();
        Assert.Equal(trained.Keys.Order(), saved.Keys.Order());
        Assert.All(trained, w => Assert.True(w.Value.eq(saved[w.Key]).all().item<bool>(), w.Key));
    }

    /// <summary>
    /// A seeded run that takes the old log-probabilities and values from the sampler equals the run that recomputes them with a
    /// second pass over the sampled sequences, to 1e-5 in every logged figure and every weight (the policy's and the value
    /// head's), over three iterations of sampling from the updated policy. With a hydra reference (bottom layer frozen and shared),
    /// the reused run also computes the frozen bottom's output once per rollout, for the reference and every training pass. (A learning rate of 1e-3: Adam turns a gradient that
    /// is 0 but for rounding, as GPT-2's key bias has, into steps of about the learning rate, whatever the rounding.)
    /// </summary>
    [Theory]
    [InlineData("gpt2", 0)]
    [InlineData("llama_gqa_tied", 0)]
    [InlineData("gpt2", 1)]
    [InlineData("llama_gqa_tied", 1)]
    public void Reusing_the_samplers_log_probs_and_values_equals_recomputing_them(string variant, int sharedLayers)
    {
        const int Iterations = 3;
        (PpoSummary Summary, Dictionary<string, Tensor> Weights) Train(bool recompute)
        {
            var (policy, fullReference) = Models(variant: variant);
            IReferenceModel reference = fullReference;
            if (sharedLayers > 0)
            {
                fullReference.Dispose();
                reference = new SharedBottomReference(policy.Policy, sharedLayers);
            }
            using var p = policy;
            using var r = reference;
            var options = Options(Iterations);
            options = new PpoOptions
            {
                MaxSteps = options.MaxSteps, BatchSize = options.BatchSize, Sampling = options.Sampling, LearningRate = 1e-3,
                MiniBatchSize = options.MiniBatchSize, PpoEpochs = options.PpoEpochs, EvalEvery = options.EvalEvery, SaveEvery = options.SaveEvery,
                SamplesEvery = options.SamplesEvery, MaxLength = options.MaxLength, Seed = options.Seed, RecomputeRolloutPasses = recompute,
                FreezeBottomLayers = sharedLayers,
            };
            var summary = new PpoTrainer(new PpoModels(policy, reference, new CharacterTokenizer(), new LetterReward()), options, TestPaths.NewTempDirectory())
                .Run(Prompts, [], resume: false);
            return (summary, policy.state_dict().ToDictionary(w => w.Key, w => w.Value.detach().clone()));
        }
        var (start, startReference) = Models(variant: variant);
        var initial = start.state_dict().ToDictionary(w => w.Key, w => w.Value.detach().clone());
        start.Dispose();
        startReference.Dispose();

        var reused = Train(recompute: false);
        var recomputed = Train(recompute: true);

        Assert.Contains(initial, w => (w.Value - recomputed.Weights[w.Key]).abs().max().item<float>() > 1e-3); // the run trains
        Assert.Equal(Iterations, reused.Summary.History.Count);
        for (int i = 0; i < Iterations; i++)
            foreach (var (key, expected) in recomputed.Summary.History[i].Where(m => !m.Key.StartsWith("time_") && m.Key is not ("seconds" or "tokens_per_s")))
                Assert.True(Math.Abs(reused.Summary.History[i][key] - expected) <= 1e-5, $"iteration {i + 1}: {key} {reused.Summary.History[i][key]} vs {expected}");
        Assert.Equal(recomputed.Weights.Keys.Order(), reused.Weights.Keys.Order());
        foreach (var (name, expected) in recomputed.Weights)
        {
            float difference = (reused.Weights[name] - expected).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"{name} differs by {difference}");
        }
    }

    /// <summary>The policy's weights after two iterations from the same start with the given options.</summary>
    static Dictionary<string, Tensor> TrainedWeights(PpoOptions options)
    {
        var (policy, reference) = Models();
        using var r = reference;
        new PpoTrainer(new PpoModels(policy, reference, new CharacterTokenizer(), new LetterReward()), options, TestPaths.NewTempDirectory()).Run(Prompts, [], resume: false);
        var weights = policy.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        policy.Dispose();
        return weights;
    }

    [Fact]
    public void Gradient_accumulation_adds_up_mini_batches_into_fewer_optimizer_steps()
    {
        var options = Options(2);
        var stepEveryMiniBatch = TrainedWeights(options);
        var stepEveryTwo = TrainedWeights(YamlConfig.Merge(options, new Dictionary<string, object?> { ["GradientAccumulation"] = 2 }));
        var again = TrainedWeights(YamlConfig.Merge(options, new Dictionary<string, object?> { ["GradientAccumulation"] = 2 }));

        double largest = stepEveryMiniBatch.Max(p => (p.Value - stepEveryTwo[p.Key]).abs().max().item<float>());
        Assert.True(largest > 1e-4, $"weights differ by at most {largest}: gradient_accumulation had no effect");
        Assert.All(again, p => Assert.Equal(0f, (p.Value - stepEveryTwo[p.Key]).abs().max().item<float>())); // and a rerun is identical
        var wholeBatch = Assert.ThrowsAny<RlhfException>(() => YamlConfig.Merge(options, new Dictionary<string, object?>
        {
            ["GradientAccumulation"] = 2, ["MiniBatchSize"] = 0,
        }).Validate());
        Assert.Contains("'gradient_accumulation'", wholeBatch.Message);
    }

    [Fact]
    public void Resuming_after_an_interruption_matches_the_uninterrupted_run()
    {
        var options = Options(4);
        string straightDir = TestPaths.NewTempDirectory();
        var (straight, straightRef) = Models();
        var expected = new PpoTrainer(new PpoModels(straight, straightRef, new CharacterTokenizer(), new LetterReward()), options, straightDir).Run(Prompts, [], resume: false);

        string dir = TestPaths.NewTempDirectory();
        var (first, firstRef) = Models();
        new PpoTrainer(new PpoModels(first, firstRef, new CharacterTokenizer(), new LetterReward()), options, dir).Run(Prompts, [], resume: false, stopAtStep: 2);
        // A policy with other initial weights: everything it continues from must come from the checkpoint.
        var (resumed, unusedRef) = Models(seed: 99);
        var (unusedPolicy, resumedRef) = Models();
        unusedRef.Dispose();
        unusedPolicy.Dispose();
        var actual = new PpoTrainer(new PpoModels(resumed, resumedRef, new CharacterTokenizer(), new LetterReward()), options, dir).Run(Prompts, [], resume: true);

        Assert.Equal(expected.History[^1]["reward_mean"], actual.History[^1]["reward_mean"], 6);
        Assert.Equal(expected.History[^1]["beta"], actual.History[^1]["beta"], 9);
        var expectedWeights = straight.state_dict();
        foreach (var (name, value) in resumed.state_dict())
            Assert.True((value - expectedWeights[name]).abs().max().item<float>() <= 1e-6, name);
        foreach (var m in new IDisposable[] { straight, straightRef, first, firstRef, resumed, resumedRef }) m.Dispose();
    }

    [Fact]
    public void A_checkpoint_that_kept_the_best_reward_negated_as_best_eval_loss_resumes_with_that_best()
    {
        var options = YamlConfig.Merge(Options(4), new Dictionary<string, object?> { ["EvalEvery"] = 1L, ["EvalPromptCount"] = 4 });
        string dir = TestPaths.NewTempDirectory();
        var evalPrompts = Prompts.Take(4).ToList();
        var (first, firstRef) = Models();
        var stopped = new PpoTrainer(new PpoModels(first, firstRef, new CharacterTokenizer(), new LetterReward()), options, dir).Run(Prompts, evalPrompts, resume: false, stopAtStep: 2);
        string checkpoint = new TrainingCheckpoints(dir).Latest!;
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, TrainerState.FileName)))!.AsObject();
        Assert.Equal(stopped.BestEvalReward, saved["best_eval_reward"]!.GetValue<double>());
        // As checkpoints were written before best_eval_reward: the best reward negated, as a loss. A share of "a" is at most 1,
        // so no evaluation after the resume beats a best of 2.
        saved.Remove("best_eval_reward");
        saved["best_eval_loss"] = -2.0;
        File.WriteAllText(Path.Combine(checkpoint, TrainerState.FileName), saved.ToJsonString());

        var (resumed, resumedRef) = Models();
        var summary = new PpoTrainer(new PpoModels(resumed, resumedRef, new CharacterTokenizer(), new LetterReward()), options, dir).Run(Prompts, evalPrompts, resume: true);

        Assert.Equal(2.0, summary.BestEvalReward);
        var final = TrainerState.Load(new TrainingCheckpoints(dir).Latest!);
        Assert.Equal(4, final.Step);
        Assert.Equal(2.0, final.BestEvalReward); // written under its own name from then on
        Assert.Null(final.BestEvalLoss);
        foreach (var m in new IDisposable[] { first, firstRef, resumed, resumedRef }) m.Dispose();
    }
}
