using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

internal static class Norms
{
    /// <summary>LayerNorm with bias, or RMSNorm for Llama.</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelConfig config) => config.Family == ModelFamily.Llama
        ? new RmsNorm(config.HiddenSize, config.NormEpsilon)
        : nn.LayerNorm(config.HiddenSize, config.NormEpsilon);
}
