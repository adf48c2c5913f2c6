using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;
using static RlhfSharp.Tests.Training.SyntheticTasks;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training;

/// <summary>sft and reward with LoRA (lora_r &gt; 0) through <see cref="TrainingLoop{TExample}"/> on tiny models and token-id tasks.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public class LoraTrainingTests
{
    static SftOptions Sft(long steps, int rank = 4) => new()
    {
        MaxSteps = steps, BatchSize = 8, LearningRate = 1e-2, WarmupSteps = 1, EvalEvery = steps, SaveEvery = 2, LogEvery = 1, Seed = 11,
        LoraR = rank, LoraAlpha = 8, LoraDropout = 0.1,
    };

    static RewardOptions Reward(long steps) => new()
    {
        MaxSteps = steps, BatchSize = 8, LearningRate = 1e-2, WarmupSteps = 1, EvalEvery = steps, SaveEvery = 2, LogEvery = 1, Seed = 3,
        LoraR = 4, LoraAlpha = 8, LoraTarget = ["q_proj,v_proj", "down_proj"],
    };

    static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    /// <summary>Bit for bit: same shape and every element equal.</summary>
    static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var equal = a.eq(b).all();
        return equal.item<bool>();
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void A_lora_sft_run_changes_only_the_adapters_and_leaves_every_base_weight_bit_identical(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 2);
        var before = Snapshot(model);
        new TrainingLoop<EncodedSft>(new SftObjective(model), Sft(4), TestPaths.NewTempDirectory()).Run(ShiftTask(32, 1), ShiftTask(8, 2), resume: false);

        var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Contains(after.Keys, name => name.Contains(".lora_B."));
        foreach (var (name, weight) in before)
            Assert.True(Same(weight, after[name]), $"{name} changed: the base must stay frozen");
        Assert.All(after.Where(p => p.Key.Contains(".lora_B.")), p => Assert.True(p.Value.abs().max().item<float>() > 0, $"{p.Key} did not train"));
    }

    [Fact]
    public void A_lora_reward_run_trains_the_adapters_and_the_score_head_and_nothing_else()
    {
        manual_seed(6);
        using var model = new SequenceRewardModel(TinyModels.Config("llama"));
        var before = Snapshot(model);
        new TrainingLoop<EncodedPreference>(new RewardObjective(model, Reward(4)), Reward(4), TestPaths.NewTempDirectory())
            .Run(ContainsSevenTask(64, 1), ContainsSevenTask(16, 2), resume: false);

        var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(["down_proj", "q_proj", "v_proj"], LoraModel.Adapters(model).Select(a => a.Path[(a.Path.LastIndexOf('.') + 1)..]).Distinct().Order());
        foreach (var (name, weight) in before.Where(p => p.Key != "score.weight"))
            Assert.True(Same(weight, after[name]), $"{name} changed: the base must stay frozen");
        Assert.False(Same(before["score.weight"], after["score.weight"]), "the score head must train beside the adapters");
    }

    static readonly long[] ProbeIds = [5, 17, 3, 88, 42, 7, 1, 9, 12, 30];

    /// <summary>The model's output on fixed ids in eval mode: logits of a causal LM, rewards of a reward model.</summary>
    static Tensor Output(nn.Module model)
    {
        bool training = model.training;
        model.eval();
        using var ids = tensor(ProbeIds).view(2, 5);
        using var noGrad = no_grad();
        var output = model is CausalLanguageModel lm ? lm.call(new DecoderInput(ids)) : ((SequenceRewardModel)model).call(new DecoderInput(ids));
        if (training) model.train();
        return output;
    }

    /// <summary>
    /// An objective that records its model's output when the loop asks for its first loss: the model exactly as the
    /// trainer's own setup left it (adapters attached, optimizer built, parameters broadcast), before any update.
    /// </summary>
    sealed class FirstStepProbe<T>(ITrainingObjective<T> inner) : ITrainingObjective<T>
    {
        public Tensor? AtFirstStep { get; private set; }
        public string Name => inner.Name;
        public nn.Module Model => inner.Model;
        public ModelConfig Config => inner.Config;
        public TrainedModel Trained => inner.Trained;
        public int Length(T example) => inner.Length(example);
        public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<T> examples, int batchSize) => inner.Evaluate(examples, batchSize);

        public StepLoss Forward(IReadOnlyList<T> batch)
        {
            AtFirstStep ??= Output(inner.Model).DetachFromDisposeScope(); // the loop disposes what a micro-batch makes
            return inner.Forward(batch);
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("phi3")]
    public void Step_zero_of_a_lora_sft_run_is_exactly_the_base_model(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 2);
        using var before = Output(model);
        var probe = new FirstStepProbe<EncodedSft>(new SftObjective(model));
        new TrainingLoop<EncodedSft>(probe, Sft(1), TestPaths.NewTempDirectory()).Run(ShiftTask(16, 1), [], resume: false);
        Assert.True(LoraModel.HasAdapters(model));
        Assert.True(Same(before, probe.AtFirstStep!), "adapters fresh from attach must leave the logits bit-identical");
    }

    [Fact]
    public void Step_zero_of_a_lora_reward_run_is_exactly_the_starting_reward_model()
    {
        manual_seed(6);
        using var model = new SequenceRewardModel(TinyModels.Config("llama"));
        using var before = Output(model);
        var probe = new FirstStepProbe<EncodedPreference>(new RewardObjective(model, Reward(1)));
        new TrainingLoop<EncodedPreference>(probe, Reward(1), TestPaths.NewTempDirectory()).Run(ContainsSevenTask(16, 1), [], resume: false);
        Assert.True(Same(before, probe.AtFirstStep!), "adapters fresh from attach must leave the rewards bit-identical");
    }

    public static TheoryData<string> Dialects() => new(["gpt2", "llama", "qwen2", "phi3"]);

    [Theory, MemberData(nameof(Dialects))]
    public void The_run_folder_and_its_checkpoints_are_adapter_folders_that_give_the_trained_logits_on_the_base(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 2);
        string dir = TestPaths.NewTempDirectory();
        new TrainingLoop<EncodedSft>(new SftObjective(model, new ModelOrigin(dir, "org/tiny-" + variant)), Sft(4), dir).Run(ShiftTask(32, 1), [], resume: false);
        using var trained = Output(model);

        foreach (string folder in new[] { dir, Path.Combine(dir, "checkpoints", "step-00000004") })
        {
            Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")), $"{folder}: the frozen base is not saved again");
            using var reloaded = TinyModels.Create(variant, seed: 2);
            var config = PeftAdapter.Load(reloaded, folder);
            Assert.Equal(("CAUSAL_LM", "org/tiny-" + variant, 4, 8.0), (config.TaskType, config.BaseModel, config.Settings.Rank, config.Settings.Alpha));
            using var logits = Output(reloaded);
            Assert.True(Same(trained, logits), $"{folder}: base + saved adapter must give the trained model's logits");
        }
    }

    /// <summary>Every parameter of two models, bit for bit (the resume tests' "within float noise" is 1e-6).</summary>
    static double MaxDifference(nn.Module a, nn.Module b)
    {
        var right = b.state_dict();
        double max = 0;
        foreach (var (name, value) in a.state_dict())
        {
            using var difference = (value - right[name]).abs().max();
            max = Math.Max(max, difference.item<float>());
        }
        return max;
    }

    [Fact]
    public void Resuming_an_interrupted_lora_sft_run_matches_the_uninterrupted_run()
    {
        var train = ShiftTask(64, 4);
        var heldOut = ShiftTask(8, 5);
        var options = Sft(8);
        using var straight = TinyModels.Create("llama", seed: 2);
        var expected = new TrainingLoop<EncodedSft>(new SftObjective(straight), options, TestPaths.NewTempDirectory()).Run(train, heldOut, resume: false);

        string dir = TestPaths.NewTempDirectory();
        using (var first = TinyModels.Create("llama", seed: 2))
            new TrainingLoop<EncodedSft>(new SftObjective(first), options, dir).Run(train, heldOut, resume: false, stopAtStep: 3);
        using var resumed = TinyModels.Create("llama", seed: 2);
        manual_seed(99); // the fresh adapters drawn before the checkpoint loads differ from the first run's
        var actual = new TrainingLoop<EncodedSft>(new SftObjective(resumed), options, dir).Run(train, heldOut, resume: true);

        Assert.Equal(8, actual.Steps);
        Assert.Equal(expected.LastEvalMetrics["eval_loss"], actual.LastEvalMetrics["eval_loss"], 6);
        double difference = MaxDifference(straight, resumed);
        Assert.True(difference <= 1e-6, $"max |w_resumed - w_straight| = {difference}");
    }

    [Fact]
    public void Resuming_an_interrupted_lora_reward_run_matches_the_uninterrupted_run_score_head_included()
    {
        var train = ContainsSevenTask(64, 1);
        var heldOut = ContainsSevenTask(16, 2);
        var options = Reward(6);
        SequenceRewardModel Fresh()
        {
            manual_seed(6);
            return new SequenceRewardModel(TinyModels.Config("llama"));
        }
        using var straight = Fresh();
        var expected = new TrainingLoop<EncodedPreference>(new RewardObjective(straight, options), options, TestPaths.NewTempDirectory()).Run(train, heldOut, resume: false);

        string dir = TestPaths.NewTempDirectory();
        using (var first = Fresh())
            new TrainingLoop<EncodedPreference>(new RewardObjective(first, options), options, dir).Run(train, heldOut, resume: false, stopAtStep: 3);
        using var resumed = Fresh();
        using (no_grad()) resumed.named_parameters().Single(p => p.name == "score.weight").parameter.normal_(); // a resume must bring the trained head back
        var actual = new TrainingLoop<EncodedPreference>(new RewardObjective(resumed, options), options, dir).Run(train, heldOut, resume: true);

        Assert.Equal(expected.LastEvalMetrics["eval_loss"], actual.LastEvalMetrics["eval_loss"], 6);
        double difference = MaxDifference(straight, resumed);
        Assert.True(difference <= 1e-6, $"max |w_resumed - w_straight| = {difference}");
    }

    [Fact]
    public void A_run_continuing_an_adapter_starts_from_its_weights_and_score_head()
    {
        manual_seed(6);
        using var trainedRm = new SequenceRewardModel(TinyModels.Config("llama"));
        string adapter = TestPaths.NewTempDirectory();
        new TrainingLoop<EncodedPreference>(new RewardObjective(trainedRm, Reward(3)), Reward(3), adapter).Run(ContainsSevenTask(32, 1), [], resume: false);
        using var adapterOutput = Output(trainedRm);

        manual_seed(6);
        using var model = new SequenceRewardModel(TinyModels.Config("llama"));
        using var baseOutput = Output(model);
        var probe = new FirstStepProbe<EncodedPreference>(new RewardObjective(model, Reward(1), new ModelOrigin(adapter, "base", Adapter: adapter)));
        new TrainingLoop<EncodedPreference>(probe, Reward(1), TestPaths.NewTempDirectory()).Run(ContainsSevenTask(16, 3), [], resume: false);
        Assert.False(Same(baseOutput, adapterOutput), "the adapter must have trained");
        Assert.True(Same(adapterOutput, probe.AtFirstStep!), "the continued run must start from the adapter and its score head");
    }

    [Fact]
    public void A_run_continuing_an_adapter_with_other_scaling_or_of_another_task_is_refused()
    {
        manual_seed(6);
        using var rm = new SequenceRewardModel(TinyModels.Config("llama"));
        string adapter = TestPaths.NewTempDirectory();
        new TrainingLoop<EncodedPreference>(new RewardObjective(rm, Reward(1)), Reward(1), adapter).Run(ContainsSevenTask(8, 1), [], resume: false);

        using var other = new SequenceRewardModel(TinyModels.Config("llama"));
        var scaled = new RewardObjective(other, Reward(1), new ModelOrigin(adapter, "base", Adapter: adapter));
        var error = Assert.Throws<RlhfException>(() => scaled.Trained.Prepare(new RewardOptions { LoraR = 4, LoraAlpha = 32, LoraTarget = ["q_proj,v_proj", "down_proj"] }));
        Assert.Contains("lora_alpha 8", error.Message);
        Assert.False(LoraModel.HasAdapters(other), "a refused adapter leaves the model as it was");

        using var lm = TinyModels.Create("llama");
        var sft = new SftObjective(lm, new ModelOrigin(adapter, "base", Adapter: adapter));
        error = Assert.Throws<RlhfException>(() => sft.Trained.Prepare(new SftOptions { LoraR = 4, LoraAlpha = 8, LoraTarget = ["q_proj,v_proj", "down_proj"] }));
        Assert.Contains("task_type is SEQ_CLS", error.Message);
    }

    [Fact]
    public void AdamW_decays_the_adapter_matrices_and_the_score_head_and_holds_no_state_for_the_frozen_base()
    {
        manual_seed(6);
        using var model = new SequenceRewardModel(TinyModels.Config("llama"));
        var options = new RewardOptions { LoraR = 4, LoraAlpha = 8, LearningRate = 0.1, WeightDecay = 0.5 };
        new RewardObjective(model, options).Trained.Prepare(options);
        using (no_grad()) foreach (var (_, adapter) in LoraModel.Adapters(model)) adapter.B.weight!.normal_(); // B = 0 would hide the decay
        var before = Snapshot(model);
        long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

        using var optimizer = new DataParallelOptimizer(model, options, SingleProcess.Instance);
        Assert.Equal(2 * 4 * trainable, optimizer.StateBytes.Unsharded);
        optimizer.ZeroGrad();
        using (var ids = tensor(ProbeIds).view(2, 5)) (model.call(new DecoderInput(ids)).sum() * 0).backward(); // zero gradients: AdamW's step is its decay alone
        optimizer.Step();

        foreach (var (name, parameter) in model.named_parameters())
        {
            using var expected = parameter.requires_grad ? before[name] * (1 - 0.1 * 0.5) : before[name];
            using var difference = (parameter - expected).abs().max();
            Assert.True(difference.item<float>() <= 1e-6, $"{name}: {(parameter.requires_grad ? "decayed by lr x weight_decay" : "frozen")} expected, off by {difference.item<float>()}");
        }
    }
}
