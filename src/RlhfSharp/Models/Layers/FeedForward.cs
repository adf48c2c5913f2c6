using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>
/// The MLP of a block: down(act(up(x))), or Llama's SwiGLU down(silu(gate(x)) * up(x)), with each
/// dialect's parameter names. Phi-3 fuses gate and up into one gate_up_proj: its first half of rows is the gate.
/// </summary>
internal sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    readonly string _activation;
    readonly nn.Module<Tensor, Tensor> _up, _down;
    readonly nn.Module<Tensor, Tensor>? _gate;
    readonly bool _fusedGateUp;

    public FeedForward(ModelConfig config) : base(nameof(FeedForward))
    {
        _activation = config.Activation;
        long d = config.HiddenSize, inner = config.IntermediateSize;
        switch (config.Family)
        {
            case ModelFamily.Gpt2:
                _up = this.AddChild("c_fc", AdaptableLinear.Conv1D(d, inner));
                _down = this.AddChild("c_proj", AdaptableLinear.Conv1D(inner, d));
                break;
            case ModelFamily.GptJ:
                _up = this.AddChild("fc_in", AdaptableLinear.Linear(d, inner));
                _down = this.AddChild("fc_out", AdaptableLinear.Linear(inner, d));
                break;
            case ModelFamily.GptNeoX:
                _up = this.AddChild("dense_h_to_4h", AdaptableLinear.Linear(d, inner));
                _down = this.AddChild("dense_4h_to_h", AdaptableLinear.Linear(inner, d));
                break;
            case ModelFamily.Phi3:
                _fusedGateUp = true;
                _up = this.AddChild("gate_up_proj", AdaptableLinear.Linear(d, 2 * inner, hasBias: config.MlpBias));
                _down = this.AddChild("down_proj", AdaptableLinear.Linear(inner, d, hasBias: config.MlpBias));
                break;
            default:
                _gate = this.AddChild("gate_proj", AdaptableLinear.Linear(d, inner, hasBias: config.MlpBias));
                _up = this.AddChild("up_proj", AdaptableLinear.Linear(d, inner, hasBias: config.MlpBias));
                _down = this.AddChild("down_proj", AdaptableLinear.Linear(inner, d, hasBias: config.MlpBias));
                break;
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor hidden;
        if (_fusedGateUp)
        {
            var halves = _up.call(x).chunk(2, -1);
            hidden = Activations.Apply(_activation, halves[0]) * halves[1];
        }
        else hidden = _gate is null
            ? Activations.Apply(_activation, _up.call(x))
            : Activations.Apply(_activation, _gate.call(x)) * _up.call(x);
        return _down.call(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>Children are registered by <see cref="ModuleNaming.AddChild"/> under their checkpoint names;
    /// TorchSharp's field-name registration must not add them a second time.</summary>
    protected override void RegisterComponents() { }
}
