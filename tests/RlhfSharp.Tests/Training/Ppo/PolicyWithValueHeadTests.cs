using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

public class PolicyWithValueHeadTests
{
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
