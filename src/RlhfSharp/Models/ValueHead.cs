using RlhfSharp.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// PPO's scalar value head: hidden states [batch, time, hidden] to value estimates [batch, time].
/// Named v_head, as trlx names it, so it saves beside the policy as value_head.safetensors.
/// </summary>
public sealed class ValueHead : nn.Module<Tensor, Tensor>
{
    readonly Linear _linear;

    public ValueHead(int hiddenSize) : base(nameof(ValueHead))
    {
        _linear = this.AddChild("v_head", nn.Linear(hiddenSize, 1));
        using var noGrad = no_grad();
        nn.init.normal_(_linear.weight!, std: 0.02);
        _linear.bias!.zero_();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var values = _linear.call(hidden);
        return values.squeeze(-1);
    }

    /// <summary>Children are registered by <see cref="ModuleNaming.AddChild"/> under their checkpoint names;
    /// TorchSharp's field-name registration must not add them a second time.</summary>
    protected override void RegisterComponents() { }
}
