using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

internal static class Norms
{
    /// <summary>LayerNorm with bias for the GPT families, RMSNorm for Llama and the dialects built on its layout.</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelConfig config) => config.Family is ModelFamily.Gpt2 or ModelFamily.GptJ or ModelFamily.GptNeoX
        ? nn.LayerNorm(config.HiddenSize, config.NormEpsilon)
        : new RmsNorm(config.HiddenSize, config.NormEpsilon);
}
