using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>
/// Multi-head causal self-attention with the projections each dialect stores: GPT-2's fused Conv1D
/// c_attn, GPT-NeoX's fused per-head query_key_value, Phi-3's fused qkv_proj ([q; k; v] rows), or separate
/// q/k/v projections (GPT-J, Llama, Qwen2).
/// Grouped-query attention repeats each key/value head for its group of query heads.
/// </summary>
internal sealed class CausalSelfAttention : nn.Module<Tensor, AttentionContext, Tensor>
{
    readonly ModelConfig _config;
    readonly int _layer;
    readonly int? _window;
    readonly RotaryEmbedding? _rotary;
    readonly nn.Module<Tensor, Tensor>? _fused, _query, _key, _value;
    readonly nn.Module<Tensor, Tensor> _output;

    public CausalSelfAttention(ModelConfig config, int layer, RotaryEmbedding? rotary) : base(nameof(CausalSelfAttention))
    {
        _config = config;
        _layer = layer;
        _window = config.WindowOf(layer);
        _rotary = rotary;
        long d = config.HiddenSize, q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim;
        switch (config.Family)
        {
            case ModelFamily.Gpt2:
                _fused = this.AddChild("c_attn", AdaptableLinear.Conv1D(d, 3 * d));
                _output = this.AddChild("c_proj", AdaptableLinear.Conv1D(d, d));
                break;
            case ModelFamily.GptNeoX:
                _fused = this.AddChild("query_key_value", AdaptableLinear.Linear(d, 3 * d, hasBias: config.AttentionBias));
                _output = this.AddChild("dense", AdaptableLinear.Linear(d, d, hasBias: config.AttentionBias));
                break;
            case ModelFamily.Phi3:
                _fused = this.AddChild("qkv_proj", AdaptableLinear.Linear(d, q + 2 * kv, hasBias: config.AttentionBias));
                _output = this.AddChild("o_proj", AdaptableLinear.Linear(q, d, hasBias: config.AttentionOutputBias));
                break;
            default:
                _query = this.AddChild("q_proj", AdaptableLinear.Linear(d, q, hasBias: config.AttentionBias));
                _key = this.AddChild("k_proj", AdaptableLinear.Linear(d, kv, hasBias: config.AttentionBias));
                _value = this.AddChild("v_proj", AdaptableLinear.Linear(d, kv, hasBias: config.AttentionBias));
                _output = this.AddChild(config.Family == ModelFamily.GptJ ? "out_proj" : "o_proj", AdaptableLinear.Linear(q, d, hasBias: config.AttentionOutputBias));
                break;
        }
    }

    /// <summary>x: [batch, time, hidden] -> [batch, time, hidden].</summary>
    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var (query, key, value) = Project(x); // [B, heads, T, headDim]
        if (_rotary is not null)
        {
            query = _rotary.Apply(query, context.RotaryCos!, context.RotarySin!);
            key = _rotary.Apply(key, context.RotaryCos!, context.RotarySin!);
        }
        if (context.Cache is not null) (key, value) = context.Cache.Append(_layer, key, value);
        var keys = context.For(_window);
        if (keys.FirstKey > 0)
        {
            long read = key.shape[2] - keys.FirstKey;
            (key, value) = (key.narrow(2, keys.FirstKey, read), value.narrow(2, keys.FirstKey, read));
        }
        int group = _config.NumHeads / _config.NumKeyValueHeads;
        if (group > 1)
        {
            key = key.repeat_interleave(group, dim: 1);
            value = value.repeat_interleave(group, dim: 1);
        }
        double dropout = training ? _config.AttentionDropout : 0;
        var attended = nn.functional.scaled_dot_product_attention(query, key, value, keys.AllowedKeys, dropout, is_casual: keys.Causal);
        var merged = attended.transpose(1, 2).flatten(2); // [B, T, heads * headDim]
        return _output.call(merged).MoveToOuterDisposeScope();
    }

    (Tensor Query, Tensor Key, Tensor Value) Project(Tensor x)
    {
        long batch = x.shape[0], time = x.shape[1], heads = _config.NumHeads, headDim = _config.HeadDim;
        Tensor query, key, value;
        switch (_config.Family)
        {
            case ModelFamily.Gpt2:
                var parts = _fused!.call(x).split(_config.HiddenSize, -1); // q | k | v, each [B, T, hidden]
                (query, key, value) = (parts[0], parts[1], parts[2]);
                break;
            case ModelFamily.GptNeoX:
                // Laid out per head: [q_h | k_h | v_h] for h = 0 .. heads-1.
                var perHead = _fused!.call(x).view(batch, time, heads, 3 * headDim).split(headDim, -1);
                return (perHead[0].transpose(1, 2), perHead[1].transpose(1, 2), perHead[2].transpose(1, 2));
            case ModelFamily.Phi3:
                long kv = _config.NumKeyValueHeads * headDim;
                var rows = _fused!.call(x).split([heads * headDim, kv, kv], -1); // [q; k; v], GQA-sized
                (query, key, value) = (rows[0], rows[1], rows[2]);
                break;
            default:
                (query, key, value) = (_query!.call(x), _key!.call(x), _value!.call(x));
                break;
        }
        return (SplitHeads(query, heads), SplitHeads(key, _config.NumKeyValueHeads), SplitHeads(value, _config.NumKeyValueHeads));

        Tensor SplitHeads(Tensor t, long count) => t.view(batch, time, count, headDim).transpose(1, 2);
    }

    /// <summary>Children are registered by <see cref="ModuleNaming.AddChild"/> under their checkpoint names;
    /// TorchSharp's field-name registration must not add them a second time.</summary>
    protected override void RegisterComponents() { }
}
