using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;
using static RlhfSharp.Tests.Training.SyntheticTasks;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training;

/// <summary>The trainers on tiny models and synthetic tasks with token ids (vocabulary 97).</summary>
[Collection(GlobalRandomStateCollection.Name)]
public class TrainerTests
{
    static SftOptions Quick(long steps) => new()
    {
        MaxSteps = steps, BatchSize = 8, LearningRate = 3e-3, WarmupSteps = 2, EvalEvery = steps, SaveEvery = 1000, LogEvery = 5, Seed = 11,
    };

    static CausalLanguageModel TinyLm()
    {
        manual_seed(2);
        return new CausalLanguageModel(TinyModels.Config("gpt2"));
    }

    [Fact]
    public void Sft_reduces_held_out_loss()
    {
        using var model = TinyLm();
        var objective = new SftObjective(model);
        var heldOut = ShiftTask(32, 2);
        model.eval();
        double before;
        using (no_grad()) before = objective.Evaluate(heldOut, 8)["eval_loss"];
        var summary = new TrainingLoop<EncodedSft>(objective, Quick(150), TestPaths.NewTempDirectory()).Run(ShiftTask(256, 1), heldOut, resume: false);
        Assert.True(summary.LastEvalMetrics["eval_loss"] < before - 1.0, $"held-out loss {before:F3} -> {summary.LastEvalMetrics["eval_loss"]:F3}");
    }

    public static TheoryData<string> AllVariants() => new(TinyModels.Variants);

    /// <summary>A few SFT steps on each dialect (8-token rows: past the tiny Mistral's window of 3) change its weights, and
    /// the model the run saves loads back as the trained one.</summary>
    [Theory, MemberData(nameof(AllVariants))]
    public void Sft_trains_every_dialect_and_the_saved_model_loads_as_trained(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 2);
        using var ids = tensor(ShiftTask(2, 6).SelectMany(e => e.InputIds.Select(t => (long)t)).ToArray()).view(2, -1);
        using var untrained = Logits(model, ids);
        string dir = TestPaths.NewTempDirectory();
        var summary = new TrainingLoop<EncodedSft>(new SftObjective(model), Quick(3), dir).Run(ShiftTask(24, 1), ShiftTask(8, 2), resume: false);
        Assert.Equal(3, summary.Steps);
        using var loaded = CausalLanguageModel.FromPretrained(dir);
        using var trained = Logits(model, ids);
        using var reloaded = Logits(loaded, ids);
        Assert.True(trained.eq(reloaded).all().item<bool>(), "the saved model is not the trained one");
        Assert.False(trained.allclose(untrained), "training did not change the model");
    }

    static Tensor Logits(CausalLanguageModel model, Tensor ids)
    {
        model.eval();
        using var noGrad = no_grad();
        return model.call(new DecoderInput(ids));
    }

    [Fact]
    public void Prompt_tokens_carry_no_loss()
    {
        var example = ShiftTask(1, 3)[0];
        using var logits = randn(1, example.InputIds.Length, 97).requires_grad_(true);
        using var labels = tensor(example.Labels.Select(l => (long)l).ToArray()).unsqueeze(0);
        var (loss, tokens) = Losses.CausalLm(logits, labels);
        loss.backward();
        using var perPosition = logits.grad!.abs().sum(-1)[0];
        // Position t predicts token t + 1: positions 0..2 predict prompt tokens and get no gradient.
        Assert.Equal(4, tokens);
        Assert.All(Enumerable.Range(0, 3), t => Assert.Equal(0f, perPosition[t].item<float>()));
        Assert.All(Enumerable.Range(3, 4), t => Assert.True(perPosition[t].item<float>() > 0));
    }

    [Fact]
    public void Resuming_after_an_interruption_matches_the_uninterrupted_run()
    {
        var train = ShiftTask(64, 4);
        var heldOut = ShiftTask(8, 5);
        var options = Quick(8);
        using var straight = TinyLm();
        string straightDir = TestPaths.NewTempDirectory();
        var expected = new TrainingLoop<EncodedSft>(new SftObjective(straight), options, straightDir).Run(train, heldOut, resume: false);

        string dir = TestPaths.NewTempDirectory();
        using (var first = TinyLm()) new TrainingLoop<EncodedSft>(new SftObjective(first), options, dir).Run(train, heldOut, resume: false, stopAtStep: 3);
        using var resumed = TinyLm();
        var actual = new TrainingLoop<EncodedSft>(new SftObjective(resumed), options, dir).Run(train, heldOut, resume: true);

        Assert.Equal(8, actual.Steps);
        Assert.Equal(expected.LastEvalMetrics["eval_loss"], actual.LastEvalMetrics["eval_loss"], 6);
        var expectedWeights = straight.state_dict();
        foreach (var (name, value) in resumed.state_dict())
            Assert.True((value - expectedWeights[name]).abs().max().item<float>() <= 1e-6, name);
    }

    [Fact]
    public void Reward_model_learns_a_synthetic_preference_rule()
    {
        manual_seed(6);
        using var model = new SequenceRewardModel(TinyModels.Config("gpt2"));
        var options = new RewardOptions
        {
            MaxSteps = 80, BatchSize = 16, LearningRate = 3e-3, WarmupSteps = 5, EvalEvery = 80, SaveEvery = 1000, LogEvery = 10, Seed = 3,
        };
        var summary = new TrainingLoop<EncodedPreference>(new RewardObjective(model, options), options, TestPaths.NewTempDirectory())
            .Run(ContainsSevenTask(512, 1), ContainsSevenTask(100, 2), resume: false);
        Assert.True(summary.LastEvalMetrics["eval_accuracy"] >= 0.9, $"held-out accuracy {summary.LastEvalMetrics["eval_accuracy"]}");
    }
}
