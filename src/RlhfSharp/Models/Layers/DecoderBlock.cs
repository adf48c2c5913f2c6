using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>
/// One transformer block. Sequential (GPT-2, Llama, NeoX without parallel residual):
///   x = x + attn(norm1(x)); x = x + mlp(norm2(x)).
/// Parallel (GPT-J with one norm, NeoX with two): x = x + attn(norm1(x)) + mlp(norm2(x)).
/// </summary>
internal sealed class DecoderBlock : nn.Module<Tensor, AttentionContext, Tensor>
{
    readonly nn.Module<Tensor, Tensor> _norm1;
    readonly nn.Module<Tensor, Tensor>? _norm2; // null: GPT-J feeds both branches from norm1
    readonly CausalSelfAttention _attention;
    readonly FeedForward _mlp;
    readonly bool _parallel;
    readonly double _residualDropout;

    public DecoderBlock(ModelConfig config, int layer, RotaryEmbedding? rotary) : base(nameof(DecoderBlock))
    {
        _parallel = config.ParallelResidual;
        _residualDropout = config.ResidualDropout;
        var (norm1, attention, norm2) = config.Family switch
        {
            ModelFamily.Gpt2 => ("ln_1", "attn", "ln_2"),
            ModelFamily.GptJ => ("ln_1", "attn", null),
            ModelFamily.GptNeoX => ("input_layernorm", "attention", "post_attention_layernorm"),
            _ => ("input_layernorm", "self_attn", "post_attention_layernorm"),
        };
        _norm1 = this.AddChild(norm1, Norms.Create(config));
        _attention = this.AddChild(attention, new CausalSelfAttention(config, layer, rotary));
        if (norm2 is not null) _norm2 = this.AddChild(norm2, Norms.Create(config));
        _mlp = this.AddChild("mlp", new FeedForward(config));
    }

    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var normed = _norm1.call(x);
        var attended = Dropout(_attention.call(normed, context));
        Tensor result;
        if (_parallel)
            result = x + attended + Dropout(_mlp.call(_norm2 is null ? normed : _norm2.call(x)));
        else
        {
            var mid = x + attended;
            result = mid + Dropout(_mlp.call(_norm2!.call(mid)));
        }
        return result.MoveToOuterDisposeScope();
    }

    Tensor Dropout(Tensor t) => training && _residualDropout > 0 ? nn.functional.dropout(t, _residualDropout, training) : t;

    /// <summary>Children are registered by <see cref="ModuleNaming.AddChild"/> under their checkpoint names;
    /// TorchSharp's field-name registration must not add them a second time.</summary>
    protected override void RegisterComponents() { }
}
