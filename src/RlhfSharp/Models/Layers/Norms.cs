using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

internal static class Norms
{
    /// <summary>LayerNorm with bias for GPT-2, GPT-J and NeoX; RMSNorm for the Llama layout and its descendants.</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelConfig config) => config.IsLlamaLayout
        ? new RmsNorm(config.HiddenSize, config.NormEpsilon)
        : nn.LayerNorm(config.HiddenSize, config.NormEpsilon);
}
