using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

internal static class Norms
{
    /// <summary>LayerNorm with bias for GPT-2, GPT-J and NeoX; RMSNorm for the Llama layout and its descendants.</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelConfig config) => config.Family is ModelFamily.Gpt2 or ModelFamily.GptJ or ModelFamily.GptNeoX
        ? nn.LayerNorm(config.HiddenSize, config.NormEpsilon)
        : new RmsNorm(config.HiddenSize, config.NormEpsilon);
}
