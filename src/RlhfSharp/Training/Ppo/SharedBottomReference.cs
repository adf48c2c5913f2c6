using System.Text.RegularExpressions;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// trlx's "hydra" reference: when the policy's embeddings and bottom <c>sharedLayers</c> blocks are frozen
/// they stay equal to the reference's, so the reference runs them from the policy itself and keeps its own
/// copy only of the blocks above, the final norm and an untied LM head (a tied head is the frozen token
/// embedding, so it is shared too).
/// </summary>
public sealed partial class SharedBottomReference : IReferenceModel
{
    readonly CausalLanguageModel _policy;
    readonly CausalLanguageModel _top;   // blocks above the shared ones and the final norm; its embeddings are unused stubs
    readonly (Tensor Weight, Tensor? Bias)? _untiedHead;
    readonly int _shared;

    /// <param name="policy">The policy; its embeddings and bottom <paramref name="sharedLayers"/> blocks are frozen here.</param>
    public SharedBottomReference(CausalLanguageModel policy, int sharedLayers)
    {
        var config = policy.Config;
        if (sharedLayers < 1 || sharedLayers >= config.NumLayers)
            throw new RlhfException($"shared frozen layers must be between 1 and {config.NumLayers - 1}, got {sharedLayers}");
        _policy = policy;
        _shared = sharedLayers;
        LayerFreezing.FreezeBottom(policy, config, sharedLayers);

        // A one-token, one-position stub: embeddings of the top-only model are never used.
        // Its layer 0 is the policy's layer sharedLayers: the first windowed layer moves down with it.
        _top = new CausalLanguageModel(config with
        {
            NumLayers = config.NumLayers - sharedLayers,
            VocabSize = 1,
            MaxPositions = 1,
            TieWordEmbeddings = true,
            FirstSlidingWindowLayer = Math.Max(0, config.FirstSlidingWindowLayer - sharedLayers),
        });
        var source = policy.state_dict();
        using var noGrad = no_grad();
        foreach (var (name, parameter) in _top.state_dict())
        {
            parameter.requires_grad = false;
            if (IsEmbedding(name)) continue;
            parameter.copy_(source[ShiftBlockIndex().Replace(name, m => $".{m.Groups[1].Value}.{int.Parse(m.Groups[2].Value) + sharedLayers}.", 1)]);
        }
        if (!config.TieWordEmbeddings)
        {
            string prefix = DecoderTrunk.CheckpointPrefix(config.Family) + ".";
            var head = source.Where(p => !p.Key.StartsWith(prefix)).ToDictionary(p => p.Key.EndsWith("bias") ? "bias" : "weight", p => p.Value.detach().clone());
            _untiedHead = (head["weight"], head.GetValueOrDefault("bias"));
        }
        _top.eval();
    }

    /// <summary>The frozen bottom blocks shared with the policy.</summary>
    public int SharedLayers => _shared;

    public Tensor Hidden(DecoderInput input)
    {
        using var bottom = Bottom(input);
        return HiddenAbove(bottom, input);
    }

    /// <summary>
    /// The output of the frozen, shared bottom (embeddings and <see cref="SharedLayers"/> blocks) [batch, time, hidden], called
    /// under no_grad. Without dropout the policy's own passes over the same sequences compute it identically, so a rollout
    /// computes it once, for this reference's top (<see cref="HiddenAbove"/>) and for every training pass of the policy's top
    /// (<see cref="PolicyWithValueHead.HiddenAndValuesAbove"/>).
    /// </summary>
    public Tensor Bottom(DecoderInput input)
    {
        using var scope = NewDisposeScope();
        var (hidden, context) = _policy.Trunk.Embed(input);
        return _policy.Trunk.RunBlocks(hidden, context, 0, _shared).MoveToOuterDisposeScope();
    }

    /// <summary>The reference's final hidden states from the shared bottom's output <paramref name="bottom"/> (see <see cref="Bottom"/>).</summary>
    public Tensor HiddenAbove(Tensor bottom, DecoderInput input)
    {
        using var scope = NewDisposeScope();
        return _top.Trunk.FinalNorm(_top.Trunk.RunBlocks(bottom, _policy.Trunk.Context(input), 0, _top.Config.NumLayers)).MoveToOuterDisposeScope();
    }

    public LmHead Head => _untiedHead is var (weight, bias) ? new(weight, bias) : new(_policy.Trunk.TokenEmbedding, null);

    public long ParameterBytes =>
        _top.named_parameters().Where(p => !IsEmbedding(p.name)).Sum(p => p.parameter.numel() * p.parameter.element_size())
        + (_untiedHead is var (w, b) ? w.numel() * w.element_size() + (b?.numel() * b?.element_size() ?? 0) : 0);

    public void Dispose()
    {
        _top.Dispose();
        if (_untiedHead is var (w, b)) { w.Dispose(); b?.Dispose(); }
    }

    static bool IsEmbedding(string name) => name.Contains(".wte.") || name.Contains(".wpe.") || name.Contains(".embed_in.") || name.Contains(".embed_tokens.");

    [GeneratedRegex(@"\.(h|layers)\.(\d+)\.")]
    private static partial Regex ShiftBlockIndex();
}
