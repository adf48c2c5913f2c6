using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>
/// GPT-2's "Conv1D": a linear layer whose weight is stored [in, out] (transposed from nn.Linear), kept
/// that way so checkpoints load by name without transposing.
/// </summary>
internal sealed class Conv1D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Hugging Face parameter names
    readonly Parameter weight;
    readonly Parameter bias;
#pragma warning restore IDE1006

    public Conv1D(long inFeatures, long outFeatures) : base(nameof(Conv1D))
    {
        weight = nn.Parameter(empty(inFeatures, outFeatures));
        bias = nn.Parameter(zeros(outFeatures));
        nn.init.normal_(weight, std: 0.02);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => bias.addmm(x.flatten(0, -2), weight).unflatten(0, x.shape[..^1]);
}
