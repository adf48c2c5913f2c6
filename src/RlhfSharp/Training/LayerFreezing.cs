using System.Text.RegularExpressions;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

public static partial class LayerFreezing
{
    /// <summary>
    /// Stops gradients for the token/position embeddings and blocks 0 .. <paramref name="bottomLayers"/>-1
    /// of the trunk. Returns how many parameter elements were frozen. A tied LM head shares the token
    /// embedding, so it freezes with it.
    /// </summary>
    public static long FreezeBottom(nn.Module model, ModelConfig config, int bottomLayers)
    {
        if (bottomLayers <= 0) return 0;
        RequireLayers(config, bottomLayers);
        long frozen = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            var block = BlockIndex().Match(name);
            bool isEmbedding = name.Contains(".wte.") || name.Contains(".wpe.") || name.Contains(".embed_in.") || name.Contains(".embed_tokens.");
            if (isEmbedding || (block.Success && int.Parse(block.Groups[1].Value) < bottomLayers))
            {
                parameter.requires_grad = false;
                frozen += parameter.numel();
            }
        }
        return frozen;
    }

    /// <summary>Throws unless the model has at least <paramref name="bottomLayers"/> blocks to freeze.</summary>
    public static void RequireLayers(ModelConfig config, int bottomLayers)
    {
        if (bottomLayers > config.NumLayers)
            throw TrainingOptions.InvalidOption(nameof(TrainingOptions.FreezeBottomLayers), bottomLayers, $"exceeds the model's {config.NumLayers} layers");
    }

    [GeneratedRegex(@"\.(?:h|layers)\.(\d+)\.")]
    private static partial Regex BlockIndex();
}
