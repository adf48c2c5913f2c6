using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training;

/// <summary>sft and reward with LoRA (lora_r &gt; 0) through <see cref="TrainingLoop{TExample}"/> on tiny models and token-id tasks.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public class LoraTrainingTests
{
    /// <summary>Prompt: 4 random tokens of 1..20; response: the same tokens plus one.</summary>
    static List<EncodedSft> ShiftTask(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            int[] prompt = Enumerable.Range(0, 4).Select(_ => random.Next(1, 21)).ToArray();
            int[] labels = [.. Enumerable.Repeat(-100, 4), .. prompt.Select(t => t + 1)];
            return new EncodedSft([.. prompt, .. prompt.Select(t => t + 1)], labels, 4, Truncation.None);
        }).ToList();
    }

    /// <summary>The chosen sequence contains token 7, the rejected one never does.</summary>
    static List<EncodedPreference> ContainsSevenTask(int count, int seed)
    {
        var random = new Random(seed);
        int[] Sequence(bool withSeven)
        {
            int[] ids = Enumerable.Range(0, 6).Select(_ => random.Next(10, 90)).ToArray();
            if (withSeven) ids[random.Next(2, 6)] = 7;
            return ids;
        }
        return Enumerable.Range(0, count).Select(_ =>
            new EncodedPreference(new EncodedSequence(Sequence(true), 2, Truncation.None), new EncodedSequence(Sequence(false), 2, Truncation.None))).ToList();
    }

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
}
