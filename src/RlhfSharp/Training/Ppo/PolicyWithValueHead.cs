using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Models.Layers;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// The PPO policy and its value function. By default the scalar value head sits on the policy's own trunk
/// (trlx's layout), so one forward pass gives logits and values. With a separate value trunk (a copy of
/// the starting policy's trunk) the value function no longer shares features with the policy, at the cost
/// of a second trunk and a second forward pass. A policy that carries LoRA adapters (<see cref="LoraPolicy"/>) is saved
/// as a PEFT adapter folder on its base rather than as a whole model.
/// </summary>
public sealed class PolicyWithValueHead : nn.Module<DecoderInput, (Tensor Logits, Tensor Values)>
{
    /// <summary>The value head (and a separate value trunk, if any), saved beside the policy.</summary>
    public const string ValueHeadFile = "value_head.safetensors";

    readonly DecoderTrunk? _valueTrunk;

    public PolicyWithValueHead(CausalLanguageModel policy, bool separateValueTrunk = false) : base(nameof(PolicyWithValueHead))
    {
        Policy = this.AddChild("policy", policy);
        ValueHead = this.AddChild("value", new ValueHead(policy.Config.HiddenSize));
        if (separateValueTrunk)
        {
            _valueTrunk = this.AddChild("value_trunk", new DecoderTrunk(policy.Config));
            _valueTrunk.load_state_dict(policy.Trunk.state_dict());
        }
    }

    public CausalLanguageModel Policy { get; }
    public ValueHead ValueHead { get; }

    /// <summary>base_model_name_or_path of the adapter folder a LoRA policy is saved as (the base as the user named it).</summary>
    public string? AdapterBaseModel { get; init; }

    /// <summary>Whether the policy trains LoRA adapters on a frozen base (and is saved as an adapter folder).</summary>
    public bool IsLora => LoraModel.HasAdapters(Policy);

    /// <summary>Logits [batch, time, vocab] and values [batch, time].</summary>
    public override (Tensor Logits, Tensor Values) forward(DecoderInput input)
    {
        var (hidden, values) = HiddenAndValues(input);
        using (hidden) return (Policy.Logits(hidden), values);
    }

    /// <summary>The policy's final hidden states [batch, time, hidden] (for the head to project only the positions scored) and
    /// values [batch, time].</summary>
    public (Tensor Hidden, Tensor Values) HiddenAndValues(DecoderInput input)
    {
        var hidden = Policy.Trunk.call(input);
        if (_valueTrunk is null) return (hidden, ValueHead.call(hidden));
        using var valueHidden = _valueTrunk.call(input);
        return (hidden, ValueHead.call(valueHidden));
    }

    /// <summary>
    /// <see cref="HiddenAndValues"/> from <paramref name="bottom"/>, the output [batch, time, hidden] of the policy's embeddings
    /// and bottom <paramref name="layers"/> blocks, frozen and computed once without a graph (<see cref="SharedBottomReference.Bottom"/>):
    /// only the blocks above run. Equal to <see cref="HiddenAndValues"/> when the model has no dropout.
    /// </summary>
    public (Tensor Hidden, Tensor Values) HiddenAndValuesAbove(Tensor bottom, int layers, DecoderInput input)
    {
        var hidden = Policy.Trunk.FinalNorm(Policy.Trunk.RunBlocks(bottom, Policy.Trunk.Context(input), layers, Policy.Config.NumLayers));
        if (_valueTrunk is null) return (hidden, ValueHead.call(hidden));
        using var valueHidden = _valueTrunk.call(input);
        return (hidden, ValueHead.call(valueHidden));
    }

    /// <summary>Whether the value head reads the policy's own final hidden states (no separate value trunk): then the values of
    /// a sequence follow from the hidden states that sampling it computed (<see cref="Generation.TextGenerator.NextTokenHidden"/>).</summary>
    public bool ValuesFromPolicyHidden => _valueTrunk is null;

    /// <summary>Values [batch, time] alone: the value trunk's pass, or the policy's trunk when the value head shares it.</summary>
    public Tensor Values(DecoderInput input)
    {
        using var hidden = (_valueTrunk ?? Policy.Trunk).call(input);
        return ValueHead.call(hidden);
    }

    /// <summary>The policy as a Hugging Face directory (what `rlhf generate` loads), or with LoRA as a PEFT adapter folder on
    /// its base (task CAUSAL_LM), plus the value function beside it.</summary>
    public void Save(string directory)
    {
        if (IsLora) PeftAdapter.Save(Policy, directory, PeftAdapter.CausalLm, AdapterBaseModel);
        else Policy.SavePretrained(directory);
        SafetensorsFile.Save(Path.Combine(directory, ValueHeadFile), ValueState());
    }

    /// <summary>Restores what <see cref="Save"/> wrote into the same parameters (a LoRA policy: its adapters, not the base).</summary>
    public void Load(string directory)
    {
        if (IsLora) PeftAdapter.LoadWeights(Policy, directory);
        else PretrainedWeights.Load(Policy, directory, DecoderTrunk.CheckpointPrefix(Policy.Config.Family), PretrainedWeights.HeadRules.CausalLm(Policy.Config));
        string path = Path.Combine(directory, ValueHeadFile);
        var header = SafetensorsFile.ReadHeader(path);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in ValueState())
        {
            if (!header.Tensors.TryGetValue(name, out var entry)) throw new CheckpointException($"{path}: tensor '{name}' is missing");
            SafetensorsFile.LoadInto(path, entry, parameter);
        }
    }

    IEnumerable<KeyValuePair<string, Tensor>> ValueState() =>
        ValueHead.state_dict().Concat(_valueTrunk?.state_dict().Select(p => KeyValuePair.Create("value_trunk." + p.Key, p.Value)) ?? []);

    protected override void RegisterComponents() { }
}
