using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models.Lora;

public class SharedBaseRewardModelTests
{
    static Tensor Ids() => tensor(new long[] { 5, 17, 3, 88, 42, 7, 1, 9 }).view(2, 4);

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void A_fresh_reward_adapter_rides_on_the_policys_base_and_stays_out_of_the_policys_passes(string variant)
    {
        using var model = TinyModels.Create(variant);
        using var ids = Ids();
        using var noGrad = no_grad();
        using var baseLogits = model.call(new DecoderInput(ids));
        var settings = new LoraSettings(4, 8, 0, [LoraSettings.AllLinear]);

        using var reward = SharedBaseRewardModel.Fresh(model, settings);
        var rewardAdapters = LoraModel.NamedAdapters(model, SharedBaseRewardModel.AdapterName);
        Assert.NotEmpty(rewardAdapters);
        Assert.DoesNotContain(reward.parameters(), p => p.requires_grad);
        using var before = reward.call(new DecoderInput(ids));
        foreach (var (_, adapter) in rewardAdapters) adapter.B.weight!.normal_(0, 0.5);
        using var after = reward.call(new DecoderInput(ids));
        Assert.True((after - before).abs().max().item<float>() > 1e-4, "the reward adapter is on in the reward model's own pass");

        // The policy's adapters go on beside it (as `rlhf ppo` puts them), and its passes never see the reward adapter.
        var oneBase = LoraPolicy.Create(model, settings, "base");
        Assert.Equal(rewardAdapters.Count, LoraModel.Adapters(model).Count);
        using var policyLogits = model.call(new DecoderInput(ids));
        Assert.True(policyLogits.eq(baseLogits).all().item<bool>());
        using var referenceLogits = oneBase.Reference.Logits(new DecoderInput(ids));
        Assert.True(referenceLogits.eq(baseLogits).all().item<bool>());
    }
}
