using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>PPO with LoRA on one base model: the tiny character-level policy of <see cref="PpoTrainerTests"/> with adapters.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public class LoraPpoTrainerTests
{
    static readonly LoraSettings Settings = new(4, 8, 0, [LoraSettings.AllLinear]);
    const string BaseName = "org/tiny-base";

    /// <summary>The base every model of a test starts from: the same seed gives the same weights.</summary>
    static CausalLanguageModel Base(string variant = "gpt2")
    {
        manual_seed(4);
        var model = new CausalLanguageModel(PpoTrainerTests.CharacterConfig(variant));
        model.eval();
        return model;
    }

    static LoraPpoModels LoraModels(string variant = "gpt2", string? starting = null, string? reward = null) =>
        LoraPolicy.Create(Base(variant), Settings, BaseName, starting, reward);

    static PpoSummary Train(LoraPpoModels models, long iterations, string dir, long? stopAt = null, bool resume = false) =>
        new PpoTrainer(new PpoModels(models.Policy, models.Reference, new CharacterTokenizer(), new PpoTrainerTests.LetterReward()), PpoTrainerTests.Options(iterations), dir)
            .Run(PpoTrainerTests.Prompts, [], resume, stopAt);

    static DecoderInput Input() => new(tensor(new long[] { 3, 7, 12, 5, 9, 1, 0, 2, 4, 8, 6, 11, 13, 10 }).view(2, 7));

    static Tensor Logits(CausalLanguageModel model)
    {
        using var noGrad = no_grad();
        model.eval();
        return model.call(Input());
    }

    static void AssertSame(Tensor expected, Tensor actual, string what) => Assert.True(expected.eq(actual).all().item<bool>(), what);

    static Dictionary<string, Tensor> Snapshot(IEnumerable<(string name, TorchSharp.Modules.Parameter parameter)> parameters) =>
        parameters.ToDictionary(p => p.name, p => p.parameter.detach().clone());

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void A_lora_run_starts_at_kl_zero_trains_only_adapters_and_value_head_and_its_reference_stays_the_base(string variant)
    {
        using var bare = Base(variant);
        var models = LoraModels(variant);
        using var policy = models.Policy;
        using var reference = models.Reference;
        var baseBefore = Snapshot(policy.Policy.named_parameters().Where(p => !p.name.Contains("lora_")));
        var trainableBefore = Snapshot(policy.named_parameters().Where(p => p.parameter.requires_grad));
        Assert.All(trainableBefore.Keys, name => Assert.True(name.Contains(".lora_") || name.StartsWith("value."), name));

        var summary = Train(models, 3, TestPaths.NewTempDirectory());

        // B starts at zero: the first rollout's policy is its reference (KL 0 to rounding: the policy's log-probabilities are the
        // sampler's, from the cached decode, the reference's from a pass over the whole sequences).
        Assert.Equal(0.0, summary.History[0]["kl"], 4);
        Assert.Equal(0.0, summary.History[0]["kl_k3"], 4);
        Assert.NotEqual(0.0, summary.History[^1]["kl"]);
        // The base did not move by a bit; the adapters and the value head did.
        foreach (var (name, parameter) in policy.Policy.named_parameters().Where(p => !p.name.Contains("lora_")))
            AssertSame(baseBefore[name], parameter, name);
        foreach (var (name, parameter) in policy.named_parameters().Where(p => p.parameter.requires_grad && (p.name.Contains("lora_B") || p.name.StartsWith("value."))))
            Assert.False(parameter.eq(trainableBefore[name]).all().item<bool>(), $"{name} trained");
        // The reference is the base, bit for bit, after training too, and holds no weights of its own.
        using (no_grad())
        {
            using var referenceLogits = reference.Logits(Input());
            using var baseLogits = Logits(bare);
            AssertSame(baseLogits, referenceLogits, "reference = base");
            using var policyLogits = Logits(policy.Policy);
            Assert.False(policyLogits.eq(baseLogits).all().item<bool>(), "the policy moved");
        }
        Assert.Equal(0, reference.ParameterBytes);
    }

    [Fact]
    public void A_lora_policy_saves_a_PEFT_adapter_and_value_head_that_load_back_as_trained()
    {
        var models = LoraModels();
        using var policy = models.Policy;
        using var reference = models.Reference;
        string dir = TestPaths.NewTempDirectory();
        Train(models, 2, dir);

        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")), "the base is not saved again");
        var config = PeftAdapter.ReadConfig(dir);
        Assert.Equal((PeftAdapter.CausalLm, BaseName, 4, 8.0), (config.TaskType, config.BaseModel, config.Settings.Rank, config.Settings.Alpha));
        // PEFT's rules on a fresh copy of the base give the trained policy exactly.
        using var loaded = Base();
        PeftAdapter.Load(loaded, dir);
        using var expected = Logits(policy.Policy);
        using var actual = Logits(loaded);
        AssertSame(expected, actual, "base + saved adapter = trained policy");
        // And the value head comes back beside it.
        var again = LoraModels();
        using var againPolicy = again.Policy;
        againPolicy.Load(dir);
        using var noGrad = no_grad();
        policy.eval();
        againPolicy.eval();
        var (_, values) = policy.call(Input());
        var (_, loadedValues) = againPolicy.call(Input());
        AssertSame(values, loadedValues, "value head");
    }

    [Fact]
    public void Resuming_a_lora_run_restores_adapters_value_head_and_optimizer_exactly()
    {
        var straight = LoraModels();
        var expected = Train(straight, 4, TestPaths.NewTempDirectory());

        string dir = TestPaths.NewTempDirectory();
        var first = LoraModels();
        Train(first, 4, dir, stopAt: 2);
        // Adapters and value head drawn afresh: all the run continues from must come from the checkpoint.
        var resumed = LoraModels();
        manual_seed(99);
        using (no_grad())
            foreach (var parameter in resumed.Policy.parameters().Where(p => p.requires_grad)) parameter.normal_(0, 0.1);
        var actual = Train(resumed, 4, dir, resume: true);

        Assert.Equal(expected.History[^1]["reward_mean"], actual.History[^1]["reward_mean"]);
        Assert.Equal(expected.History[^1]["beta"], actual.History[^1]["beta"]);
        var expectedWeights = straight.Policy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in resumed.Policy.named_parameters().Where(p => p.parameter.requires_grad))
            AssertSame(expectedWeights[name], parameter, name);
        foreach (var m in new IDisposable[] { straight.Policy, first.Policy, resumed.Policy }) m.Dispose();
    }

    /// <summary>An SFT adapter as `sft --lora-r` would save it, r 2, moved well away from the base.</summary>
    static string StartingAdapter()
    {
        string dir = TestPaths.NewTempDirectory("sft-adapter");
        using var model = Base();
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, ["c_attn", "c_fc"]));
        manual_seed(21);
        using (no_grad())
            foreach (var (_, adapter) in LoraModel.Adapters(model)) adapter.B.weight!.normal_(0, 0.3);
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, BaseName);
        return dir;
    }

    [Fact]
    public void Continuing_a_starting_adapter_keeps_base_plus_that_adapter_as_the_reference()
    {
        string start = StartingAdapter();
        using var sft = Base();
        PeftAdapter.Load(sft, start);
        using var bare = Base();
        var models = LoraModels(starting: start);
        using var policy = models.Policy;
        using var reference = models.Reference;
        using (var sftLogits = Logits(sft))
        using (var bareLogits = Logits(bare))
            Assert.True((sftLogits - bareLogits).abs().max().item<float>() > 0.1, "the starting adapter matters");

        string dir = TestPaths.NewTempDirectory();
        var summary = Train(models, 3, dir);

        Assert.Equal(0.0, summary.History[0]["kl"], 4); // the policy starts as base + starting adapter, which is the reference
        Assert.NotEqual(0.0, summary.History[^1]["kl"]);
        using (no_grad())
        {
            using var referenceLogits = reference.Logits(Input());
            using var sftLogits = Logits(sft);
            AssertSame(sftLogits, referenceLogits, "reference = base + starting adapter, after training too");
        }
        long adapterBytes = LoraModel.Adapters(sft).Sum(a => (a.Adapter.A.weight!.numel() + a.Adapter.B.weight!.numel()) * 4);
        Assert.Equal(adapterBytes, reference.ParameterBytes);
        // The saved adapter is the starting one trained further, on the same base: PEFT loads it on the bare base.
        var config = PeftAdapter.ReadConfig(dir);
        Assert.Equal((BaseName, 2, 4.0), (config.BaseModel, config.Settings.Rank, config.Settings.Alpha));
        using var loaded = Base();
        PeftAdapter.Load(loaded, dir);
        using var expected = Logits(policy.Policy);
        using var actual = Logits(loaded);
        AssertSame(expected, actual, "base + saved adapter = trained policy");
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("qwen2_tied")]
    public void A_reward_adapter_on_the_shared_base_scores_exactly_as_on_its_own_copy_of_the_base(string variant)
    {
        string baseDir = TestPaths.NewTempDirectory("base");
        using (var model = TinyModels.Create(variant)) model.SavePretrained(baseDir);
        string rewardDir = TestPaths.NewTempDirectory("rm-adapter");
        using (var rewardModel = SequenceRewardModel.InitializeFrom(baseDir))
        {
            LoraModel.Attach(rewardModel, new LoraSettings(2, 4, 0, new[] { "q_proj", "v_proj", "c_attn", "o_proj", "c_proj" }.Where(LoraModel.LeafNames(rewardModel).Contains).ToList()), ["score"]);
            manual_seed(8);
            using (no_grad())
            {
                foreach (var (_, adapter) in LoraModel.Adapters(rewardModel)) adapter.B.weight!.normal_(0, 0.2);
                foreach (var parameter in rewardModel.named_parameters().Where(p => p.name.StartsWith("score."))) parameter.parameter.normal_(0, 0.5);
            }
            PeftAdapter.Save(rewardModel, rewardDir, PeftAdapter.SequenceClassification, baseDir, ["score"]);
        }
        using var own = SequenceRewardModel.InitializeFrom(baseDir);
        PeftAdapter.Load(own, rewardDir);
        own.eval();

        var models = LoraPolicy.Create(CausalLanguageModel.FromPretrained(baseDir), Settings, baseDir, rewardAdapter: rewardDir);
        using var policy = models.Policy;
        using var shared = models.Reward!;
        // Trained-looking policy adapters: they must stay out of the reward model's pass.
        manual_seed(9);
        using (no_grad())
            foreach (var (_, adapter) in LoraModel.Adapters(policy.Policy)) adapter.B.weight!.normal_(0, 0.2);
        // Only the policy's own adapters and the value head train; the reward's adapter and score head are frozen.
        Assert.All(policy.named_parameters().Where(p => p.parameter.requires_grad), p => Assert.Matches(@"(\.lora_[AB]\.weight|^value\..*)$", p.name));
        Assert.All(shared.parameters(), p => Assert.True(!p.requires_grad || LoraModel.Adapters(policy.Policy).Any(a => a.Adapter.A.weight!.Handle == p.Handle || a.Adapter.B.weight!.Handle == p.Handle)));

        using var ids = tensor(new long[] { 5, 17, 3, 88, 42, 7, 0, 0, 1, 9, 60, 61 }).view(2, 6);
        using var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1 }).view(2, 6);
        using var noGrad = no_grad();
        using var expected = own.call(new DecoderInput(ids, mask));
        using var actual = shared.call(new DecoderInput(ids, mask));
        AssertSame(expected, actual, "shared base = own copy of the base");
        // And the reward adapter stays out of the policy's and the reference's passes.
        using var bare = CausalLanguageModel.FromPretrained(baseDir);
        using var bareLogits = Logits(bare);
        using var referenceLogits = models.Reference.Logits(Input());
        AssertSame(bareLogits, referenceLogits, "reference = bare base");
        string policyDir = TestPaths.NewTempDirectory("policy-adapter");
        PeftAdapter.Save(policy.Policy, policyDir, PeftAdapter.CausalLm, baseDir);
        using var alone = CausalLanguageModel.FromPretrained(baseDir);
        PeftAdapter.Load(alone, policyDir);
        using var aloneLogits = Logits(alone);
        using var policyLogits = Logits(policy.Policy);
        AssertSame(aloneLogits, policyLogits, "policy = base + its own adapter only");
    }
}
