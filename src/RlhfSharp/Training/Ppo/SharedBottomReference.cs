using System.Text.RegularExpressions;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// trlx's "hydra" reference: when the policy's bottom <c>sharedLayers</c> blocks are frozen they stay equal
/// to the reference's, so the reference runs them from the policy itself and keeps its own copy only of the
/// blocks above, the final norm and the LM head. Saves the memory of the shared blocks (the embeddings are
/// still held twice: the top-only model owns a copy).
/// </summary>
public sealed partial class SharedBottomReference : IReferenceModel
{
    readonly CausalLanguageModel _policy;
    readonly CausalLanguageModel _top;
    readonly int _shared;

    /// <param name="policy">The policy; its embeddings and bottom <paramref name="sharedLayers"/> blocks are frozen here.</param>
    public SharedBottomReference(CausalLanguageModel policy, int sharedLayers)
    {
        var config = policy.Config;
        if (sharedLayers < 1 || sharedLayers >= config.NumLayers)
            throw new RlhfException($"shared frozen layers must be between 1 and {config.NumLayers - 1}, got {sharedLayers}");
        _policy = policy;
        _shared = sharedLayers;
        Training.LayerFreezing.FreezeBottom(policy, config, sharedLayers);
        _top = new CausalLanguageModel(config with { NumLayers = config.NumLayers - sharedLayers });
        var source = policy.state_dict();
        using var noGrad = no_grad();
        foreach (var (name, parameter) in _top.state_dict())
        {
            parameter.copy_(source[ShiftBlockIndex().Replace(name, m => $".{m.Groups[1].Value}.{int.Parse(m.Groups[2].Value) + sharedLayers}.", 1)]);
            parameter.requires_grad = false;
        }
        _top.eval();
    }

    public Tensor Logits(DecoderInput input)
    {
        using var scope = NewDisposeScope();
        var (hidden, context) = _policy.Trunk.Embed(input);
        hidden = _policy.Trunk.RunBlocks(hidden, context, 0, _shared);
        hidden = _top.Trunk.RunBlocks(hidden, context, 0, _top.Config.NumLayers);
        return _top.Logits(_top.Trunk.FinalNorm(hidden)).MoveToOuterDisposeScope();
    }

    public long ParameterBytes => _top.parameters().Sum(p => p.numel() * p.element_size());

    public void Dispose() => _top.Dispose();

    [GeneratedRegex(@"\.(h|layers)\.(\d+)\.")]
    private static partial Regex ShiftBlockIndex();
}
