using RlhfSharp.Models;
using RlhfSharp.Models.Layers;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// The PPO policy: a causal LM with a scalar value head on the same trunk (trlx's default layout), so one
/// forward pass gives both the next-token logits and per-token value estimates.
/// </summary>
public sealed class PolicyWithValueHead : nn.Module<DecoderInput, (Tensor Logits, Tensor Values)>
{
    public const string ValueHeadFile = "value_head.safetensors";

    public PolicyWithValueHead(CausalLanguageModel policy) : base(nameof(PolicyWithValueHead))
    {
        Policy = this.AddChild("policy", policy);
        ValueHead = this.AddChild("value", new ValueHead(policy.Config.HiddenSize));
    }

    public CausalLanguageModel Policy { get; }
    public ValueHead ValueHead { get; }

    /// <summary>Logits [batch, time, vocab] and values [batch, time].</summary>
    public override (Tensor Logits, Tensor Values) forward(DecoderInput input)
    {
        using var hidden = Policy.Trunk.call(input);
        return (Policy.Logits(hidden), ValueHead.call(hidden));
    }

    /// <summary>The policy as a Hugging Face directory (what `rlhf generate` loads) plus value_head.safetensors beside it.</summary>
    public void Save(string directory)
    {
        Policy.SavePretrained(directory);
        Models.Checkpoints.SafetensorsFile.Save(Path.Combine(directory, ValueHeadFile), ValueHead.state_dict());
    }

    public void Load(string directory)
    {
        PretrainedWeights.Load(Policy, directory, DecoderTrunk.CheckpointPrefix(Policy.Config.Family), PretrainedWeights.HeadRules.CausalLm(Policy.Config));
        string valueHead = Path.Combine(directory, ValueHeadFile);
        var header = Models.Checkpoints.SafetensorsFile.ReadHeader(valueHead);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in ValueHead.state_dict())
        {
            if (!header.Tensors.TryGetValue(name, out var entry)) throw new CheckpointException($"{valueHead}: tensor '{name}' is missing");
            Models.Checkpoints.SafetensorsFile.LoadInto(valueHead, entry, parameter);
        }
    }

    protected override void RegisterComponents() { }
}
