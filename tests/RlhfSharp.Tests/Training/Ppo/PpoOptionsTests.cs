using System.Reflection;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Tests.Training.Ppo;

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

    [Fact]
    public void Ppo_has_no_sampling_property_of_its_own_its_sampling_keys_are_its_sampling_options()
    {
        var samplingNames = typeof(SamplingOptions).GetProperties().Select(p => p.Name).ToHashSet();
        var own = typeof(PpoOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).Where(samplingNames.Contains);
        Assert.Empty(own.Except([nameof(TrainingOptions.Seed)])); // the run's seed, from which each rollout's is derived

        var samplingKeys = YamlConfig.KeyProperties(typeof(PpoOptions)).Where(k => k.Path[0].Name == nameof(PpoOptions.Sampling));
        Assert.Equal(["max_new_tokens", "temperature", "top_k", "top_p", "stop_sequences"], samplingKeys.Select(k => k.Key));
        Assert.Equal(["\n\nHuman:"], new PpoOptions().Sampling.StopSequences);
    }

    [Fact]
    public void Bad_sampling_settings_name_their_yaml_key()
    {
        Assert.Equal("option 'temperature' is 0: must be a positive number",
            Assert.ThrowsAny<RlhfException>(() => new PpoOptions { Sampling = PpoOptions.RolloutSampling with { Temperature = 0 } }.Validate()).Message);
        Assert.Equal("option 'max_new_tokens' is 120: leaves no room for a prompt in the model's context of 120 positions; use at most 119",
            Assert.ThrowsAny<RlhfException>(() => new PpoOptions { Sampling = new SamplingOptions { MaxNewTokens = 120 } }.PromptBudget(new ContextWindow(120))).Message);
    }
}
