using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

public class DeltaRewardTests
{
    /// <summary>Scores a response by its length, and counts how often it is asked.</summary>
    sealed class LengthReward : IRewardFunction
    {
        public int Calls;
        public IReadOnlyList<double> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
        {
            Calls++;
            return responses.Select(r => (double)r.Length).ToList();
        }
    }

    [Fact]
    public void Scores_are_relative_to_the_preferred_response_which_is_scored_once()
    {
        var inner = new LengthReward();
        var delta = new DeltaReward(inner, new Dictionary<string, string> { ["p1"] = "abc", ["p2"] = "a" });
        Assert.Equal([2.0, -1.0, 0.0], delta.Score(["p1", "p1", "p2"], ["abcde", "ab", "x"]));
        Assert.Equal(2, inner.Calls); // the baselines, then the responses
        Assert.Equal([1.0], delta.Score(["p2"], ["xy"]));
        Assert.Equal(3, inner.Calls); // baselines are kept
        Assert.ThrowsAny<RlhfException>(() => delta.Score(["p3"], ["x"]));
    }

    [Fact]
    public void A_separate_value_trunk_saves_and_loads_with_the_value_head()
    {
        using var policy = new PolicyWithValueHead(TinyModels.Create("gpt2"), separateValueTrunk: true);
        Assert.Contains(policy.named_parameters(), p => p.name.StartsWith("value_trunk."));
        string dir = TestPaths.NewTempDirectory();
        policy.Save(dir);
        using var loaded = new PolicyWithValueHead(TinyModels.Create("gpt2", seed: 7), separateValueTrunk: true);
        loaded.Load(dir);
        policy.eval();
        loaded.eval();
        using var ids = tensor(new long[] { 3, 4, 5 }).view(1, 3);
        var (logits, values) = policy.call(new DecoderInput(ids));
        var (loadedLogits, loadedValues) = loaded.call(new DecoderInput(ids));
        Assert.True(values.allclose(loadedValues) && logits.allclose(loadedLogits));
    }
}

public class PpoOptionsTests
{
    [Fact]
    public void Bad_options_name_their_yaml_key()
    {
        Assert.Equal("option 'scale_reward': must be running, ref or none, not 'loud'",
            Assert.ThrowsAny<RlhfException>(() => new PpoOptions { ScaleReward = "loud" }.Validate()).Message);
        Assert.Contains("'ppo_epochs'", Assert.ThrowsAny<RlhfException>(() => new PpoOptions { PpoEpochs = 0 }.Validate()).Message);
        Assert.Contains("'learning_rate'", Assert.ThrowsAny<RlhfException>(() => new PpoOptions { LearningRate = 0 }.Validate()).Message);
        new PpoOptions().Validate(); // trlx's defaults are valid
    }
}
