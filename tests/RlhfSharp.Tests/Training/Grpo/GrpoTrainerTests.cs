using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Rewards;
using RlhfSharp.Tests.Training.Ppo;
using RlhfSharp.Training;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Grpo;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Grpo;

/// <summary>GRPO and RLOO end to end on a tiny character-level policy rewarded for the letter "a".</summary>
[Collection(GlobalRandomStateCollection.Name)]
public class GrpoTrainerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Prompts whose "answer" field is a letter (what a rule reward would read).</summary>
    internal static readonly IReadOnlyList<PromptRecord> Prompts = PpoTrainerTests.Prompts
        .Select((p, i) => new PromptRecord(p, null) { Fields = new Dictionary<string, string> { ["answer"] = $"{(char)('a' + i % 3)}" } }).ToList();

    /// <summary>A reference that must not be asked: with beta 0 none is needed.</summary>
    sealed class UnusableReference : IReferenceModel
    {
        public Tensor Hidden(DecoderInput input) => throw new InvalidOperationException("the reference was used");
        public LmHead Head => throw new InvalidOperationException("the reference was used");
        public long ParameterBytes => 0;
        public void Dispose() { }
    }

    /// <summary>Scores every completion the same: no group has any spread.</summary>
    sealed class ConstantReward : IRewardFunction
    {
        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => samples.Select(_ => 0.5).ToList();
    }

    /// <summary>1 when the completion holds the prompt row's "answer" field, else 0; records the fields it was given.</summary>
    sealed class AnswerReward : IRewardFunction
    {
        public List<IReadOnlyDictionary<string, string>> Seen { get; } = [];

        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples)
        {
            Seen.AddRange(samples.Select(s => s.Fields));
            return samples.Select(s => s.Completion.Contains(s.Fields["answer"]) ? 1.0 : 0.0).ToList();
        }
    }

    static CausalLanguageModel Policy(int seed = 4)
    {
        manual_seed(seed);
        return new CausalLanguageModel(PpoTrainerTests.CharacterConfig("gpt2"));
    }

    static FullReference ReferenceOf(CausalLanguageModel policy)
    {
        var reference = new CausalLanguageModel(policy.Config);
        reference.load_state_dict(policy.state_dict());
        return new FullReference(reference);
    }

    static T Options<T>(long steps, params (string Key, object? Value)[] more) where T : GroupSamplingOptions, new()
    {
        var options = new T();
        var values = new Dictionary<string, object?>
        {
            ["MaxSteps"] = steps, ["BatchSize"] = 8, ["NumGenerations"] = 4, ["LearningRate"] = 3e-3, ["MaxLength"] = 32, ["Seed"] = 9,
            ["EvalEvery"] = 1000L, ["SaveEvery"] = 1000L, ["SamplesEvery"] = 1000, ["MaxNewTokens"] = 8,
        };
        foreach (var (key, value) in more) values[key] = value;
        return YamlConfig.Merge(options, values);
    }

    static GrpoSummary Train(CausalLanguageModel policy, IReferenceModel? reference, IRewardFunction reward, GroupSamplingOptions options, string dir,
        bool resume = false, long? stopAtStep = null) =>
        new GrpoTrainer(new GrpoModels(policy, reference, new CharacterTokenizer(), reward), options, dir).Run(Prompts, [], resume, stopAtStep);

    [Fact]
    public void Grpo_raises_the_reward_and_logs_trls_metrics()
    {
        using var policy = Policy();
        string dir = TestPaths.NewTempDirectory();
        var reward = new RewardSet([new WeightedReward("letter", new PpoTrainerTests.LetterReward()), new WeightedReward("constant", new ConstantReward(), 0.1)]);
        var summary = Train(policy, null, reward, Options<GrpoOptions>(20, ("NumIterations", 2), ("MiniBatchSize", 4)), dir);

        double early = summary.History.Take(3).Average(h => h["rewards/letter/mean"]);
        double late = summary.History.TakeLast(5).Average(h => h["rewards/letter/mean"]);
        output.WriteLine($"grpo: share of \"a\" {early:F3} (first 3 steps) -> {late:F3} (last 5)");
        Assert.True(late > early + 0.15, $"reward {early:F3} -> {late:F3}");
        var last = summary.History[^1];
        // reward is the weighted sum: letter + 0.1 x 0.5.
        Assert.Equal(last["rewards/letter/mean"] + 0.05, last["reward"], 1e-9);
        Assert.Equal(0.5, last["rewards/constant/mean"]);
        Assert.Equal(0, last["rewards/constant/std"]);
        foreach (string key in new[] { "loss", "reward_std", "frac_reward_zero_std", "clip_ratio", "entropy", "completions/mean_length", "completions/min_length",
                     "completions/max_length", "completions/clipped_ratio", "learning_rate", "grad_norm" })
            Assert.True(last.ContainsKey(key), key);
        Assert.False(last.ContainsKey("kl"), "beta 0: no KL term, no reference, no kl metric");
        Assert.Equal(20, MetricsWriter.ReadJsonl(Path.Combine(dir, "metrics.jsonl")).Count);
        foreach (string file in new[] { "config.json", "model.safetensors", "reward_curve.png", "samples.md" })
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
        Assert.Contains("## Step 1", File.ReadAllText(Path.Combine(dir, "samples.md")));
    }

    [Fact]
    public void Rloo_raises_the_reward_with_a_kl_term_to_the_reference()
    {
        using var policy = Policy();
        using var reference = ReferenceOf(policy);
        var summary = Train(policy, reference, new PpoTrainerTests.LetterReward(), Options<RlooOptions>(20, ("NumGenerations", 4), ("Beta", 0.01), ("NumIterations", 2), ("MiniBatchSize", 4)), TestPaths.NewTempDirectory());
        double early = summary.History.Take(3).Average(h => h["reward"]);
        double late = summary.History.TakeLast(5).Average(h => h["reward"]);
        output.WriteLine($"rloo: share of \"a\" {early:F3} (first 3 steps) -> {late:F3} (last 5); KL {summary.History[0]["kl"]:F4} -> {summary.History[^1]["kl"]:F4}");
        Assert.True(late > early + 0.15, $"reward {early:F3} -> {late:F3}");
        // The policy starts as the reference; training moves it away.
        double firstKl = summary.History[0]["kl"], lastKl = summary.History[^1]["kl"];
        Assert.True(lastKl > 0.01 && lastKl > 3 * firstKl, $"KL {firstKl} -> {lastKl}");
    }

    [Fact]
    public void With_beta_0_no_reference_is_asked_and_with_beta_a_missing_one_is_an_error()
    {
        using var policy = Policy();
        Train(policy, new UnusableReference(), new PpoTrainerTests.LetterReward(), Options<GrpoOptions>(1), TestPaths.NewTempDirectory());
        var error = Assert.Throws<RlhfException>(() => Train(policy, null, new PpoTrainerTests.LetterReward(), Options<GrpoOptions>(1, ("Beta", 0.1)), TestPaths.NewTempDirectory()));
        Assert.Contains("beta 0.1 needs a reference model", error.Message);
    }

    [Fact]
    public void Groups_without_reward_spread_have_no_advantage_and_so_no_loss()
    {
        using var policy = Policy();
        var summary = Train(policy, null, new ConstantReward(), Options<GrpoOptions>(1), TestPaths.NewTempDirectory());
        Assert.Equal(1, summary.History[0]["frac_reward_zero_std"]);
        Assert.Equal(0, summary.History[0]["reward_std"]);
        Assert.Equal(0, summary.History[0]["loss"]);
        Assert.Equal(0, summary.History[0]["grad_norm"]);
    }

    /// <summary>NaN for every completion that holds a "b".</summary>
    sealed class NanForB : IRewardFunction
    {
        public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => samples.Select(s => s.Completion.Contains('b') ? double.NaN : 0).ToList();
    }

    [Fact]
    public void A_nan_reward_stops_the_run_with_a_one_line_error_naming_the_function_and_the_sample()
    {
        using var policy = Policy();
        var reward = new RewardSet([new WeightedReward("letter", new PpoTrainerTests.LetterReward()), new WeightedReward("nan_for_b", new NanForB())]);
        var error = Assert.Throws<RlhfException>(() => Train(policy, null, reward, Options<GrpoOptions>(3), TestPaths.NewTempDirectory()));
        Assert.StartsWith("reward 'nan_for_b' gave NaN for sample", error.Message);
        Assert.Contains("prompt \"question", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void The_prompt_rows_fields_reach_the_reward()
    {
        using var policy = Policy();
        var reward = new AnswerReward();
        Train(policy, null, reward, Options<GrpoOptions>(1), TestPaths.NewTempDirectory());
        Assert.Equal(8 * 4, reward.Seen.Count);
        Assert.All(reward.Seen, fields => Assert.Contains(fields["answer"], new[] { "a", "b", "c" }));
    }

    [Theory]
    [InlineData(GrpoLossType.Grpo)]
    [InlineData(GrpoLossType.Bnpo)]
    [InlineData(GrpoLossType.DrGrpo)]
    public void Resuming_after_an_interruption_matches_the_uninterrupted_run(string lossType)
    {
        // Two passes over shuffled mini-batches of 4 prompts with a KL term: old and reference log-probabilities both count.
        var options = Options<GrpoOptions>(4, ("LossType", lossType), ("Beta", 0.05), ("NumIterations", 2), ("MiniBatchSize", 4));
        using var straight = Policy();
        using var straightRef = ReferenceOf(straight);
        var expected = Train(straight, straightRef, new PpoTrainerTests.LetterReward(), options, TestPaths.NewTempDirectory());

        string dir = TestPaths.NewTempDirectory();
        using (var first = Policy())
        using (var firstRef = ReferenceOf(first))
            Train(first, firstRef, new PpoTrainerTests.LetterReward(), options, dir, stopAtStep: 2);
        // Other initial weights: whatever the run continues from must come from the checkpoint.
        using var start = Policy();
        using var resumedRef = ReferenceOf(start);
        using var resumed = Policy(seed: 99);
        var actual = Train(resumed, resumedRef, new PpoTrainerTests.LetterReward(), options, dir, resume: true);

        Assert.Equal(4, actual.Steps);
        Assert.Equal(expected.History.Select(h => h["loss"]), actual.History.Select(h => h["loss"]));
        Assert.Equal(expected.History.Select(h => h["reward"]), actual.History.Select(h => h["reward"]));
        var expectedWeights = straight.state_dict();
        foreach (var (name, value) in resumed.state_dict())
            Assert.True(value.eq(expectedWeights[name]).all().item<bool>(), name);
    }

    [Fact]
    public void With_lora_the_adapters_train_the_reference_is_the_base_and_the_run_saves_an_adapter_folder()
    {
        using var policy = Policy();
        var baseWeights = policy.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        var reference = LoraPolicy.AttachPolicyAdapters(policy, new LoraSettings(4, 8, 0, [LoraSettings.AllLinear]), startingAdapter: null);
        string dir = TestPaths.NewTempDirectory();
        var summary = Train(policy, reference, new PpoTrainerTests.LetterReward(), Options<GrpoOptions>(3, ("Beta", 0.1), ("LoraR", 4), ("LoraAlpha", 8.0)), dir);

        Assert.Equal(0, summary.History[0]["kl"]); // B starts at 0: the first pass's policy is its reference exactly
        Assert.True(summary.History[^1]["kl"] > 0, "the adapters moved the policy away from the base");
        foreach (var (name, value) in policy.state_dict().Where(p => !p.Key.Contains(".lora_")))
            Assert.True(value.eq(baseWeights[name]).all().item<bool>(), $"{name}: the base stays frozen");
        Assert.True(PeftAdapter.IsAdapterFolder(dir));
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")), "the base is not saved again");
        Assert.True(PeftAdapter.IsAdapterFolder(new TrainingCheckpoints(dir).Latest!));
    }

    [Theory]
    [InlineData("NumGenerations", 1, "'num_generations'", "at least 2")]
    [InlineData("LossType", "dapo", "'loss_type'", "grpo, bnpo or dr_grpo")]
    [InlineData("Epsilon", 1.5, "'epsilon'", "(0, 1)")]
    [InlineData("Beta", -0.1, "'beta'", "0 (no KL term, no reference model) or more")]
    [InlineData("GradientAccumulation", 2, "'gradient_accumulation'", "needs mini_batch_size")]
    [InlineData("NumIterations", 0, "'num_iterations'", "positive")]
    public void A_bad_option_is_a_one_line_error_naming_it(string property, object value, string key, string rule)
    {
        var error = Assert.ThrowsAny<RlhfException>(() => Options<GrpoOptions>(1, (property, value)).Validate());
        Assert.Contains(key, error.Message);
        Assert.Contains(rule, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
