using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// The reference of a LoRA policy: the policy itself with its adapters switched off, i.e. the frozen base it started
/// from (as TRL's PEFT PPO does). No second copy of the weights: it costs one forward pass, no memory.
/// </summary>
public sealed class AdapterOffReference(CausalLanguageModel policy) : IReferenceModel
{
    public Tensor Logits(DecoderInput input)
    {
        using var off = LoraModel.Disabled(policy);
        bool training = policy.training;
        policy.eval();
        try
        {
            return policy.call(input);
        }
        finally
        {
            if (training) policy.train();
        }
    }

    public long ParameterBytes => 0;

    public void Dispose() { }
}
