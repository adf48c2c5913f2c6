using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>Llama's RMSNorm: x / sqrt(mean(x^2) + eps) * weight, with no mean subtraction and no bias.</summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Hugging Face parameter names
    readonly Parameter weight;
#pragma warning restore IDE1006
    readonly double _epsilon;

    public RmsNorm(long size, double epsilon) : base(nameof(RmsNorm))
    {
        weight = nn.Parameter(ones(size));
        _epsilon = epsilon;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var normalized = x * rsqrt(x.pow(2).mean([-1L], keepdim: true) + _epsilon);
        return (normalized * weight).MoveToOuterDisposeScope();
    }
}
