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
}
