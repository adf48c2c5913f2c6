using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// The reference of a LoRA policy: the policy itself with its adapters switched off, i.e. the frozen base it started
/// from (as TRL's PEFT PPO does). No second copy of the weights: it costs one forward pass, no memory. When PPO continues
/// a starting adapter (an SFT adapter), the policy started from base + that adapter: a frozen copy of it, set aside under
/// <paramref name="startingAdapter"/>, is switched on for the reference pass, so the reference is the SFT policy.
/// </summary>
public sealed class AdapterOffReference(CausalLanguageModel policy, string? startingAdapter = null) : IReferenceModel
{
    /// <summary>The adapters sit in the trunk (the head has none), so the head is the policy's.</summary>
    public LmHead Head => policy.Head;

    public Tensor Hidden(DecoderInput input)
    {
        using var off = LoraModel.Disabled(policy);
        using var start = startingAdapter is null ? null : LoraModel.Enabled(policy, startingAdapter);
        bool training = policy.training;
        policy.eval();
        try
        {
            return policy.Hidden(input);
        }
        finally
        {
            if (training) policy.train();
        }
    }

    /// <summary>Only the starting adapter's frozen copy, if any: the base is the policy's.</summary>
    public long ParameterBytes => startingAdapter is null
        ? 0
        : LoraModel.NamedAdapters(policy, startingAdapter).Sum(a => a.Adapter.A.weight!.numel() * a.Adapter.A.weight!.element_size()
            + a.Adapter.B.weight!.numel() * a.Adapter.B.weight!.element_size());

    public void Dispose() { }
}
