using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

public class DialectTests
{
    public static TheoryData<string> AllVariants() => new(TinyModels.Variants);

    static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).view(rows.Length, rows[0].Length);

    static double RelativeError(Tensor actual, Tensor expected) =>
        (actual - expected).abs().max().item<float>() / Math.Max(expected.abs().max().item<float>(), 1e-12);

    [Theory, MemberData(nameof(AllVariants))]
    public void Save_then_load_gives_identical_logits(string variant)
    {
        using var model = TinyModels.Create(variant);
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        using var loaded = CausalLanguageModel.FromPretrained(dir);
        using var input = Ids([5, 17, 3, 88, 42, 7]);
        using var expected = model.call(new DecoderInput(input));
        using var actual = loaded.call(new DecoderInput(input));
        Assert.True(expected.eq(actual).all().item<bool>());
        Assert.Equal(model.state_dict().Keys.Order(), loaded.state_dict().Keys.Order());
    }

    [Theory, MemberData(nameof(AllVariants))]
    public void A_config_built_in_code_is_written_so_that_it_reads_back_the_same(string variant)
    {
        // Without the source JSON every field the dialect needs must come from FamilyFields (rope_scaling, partial_rotary_factor ...).
        var config = TinyModels.Config(variant) with { Source = null };
        using var model = new CausalLanguageModel(config);
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        Assert.Equal(config, ModelConfig.FromDirectory(dir) with { Source = null });
    }

    [Theory]
    [InlineData("phi3_partial_rotary")]
    [InlineData("gpt_neox")]
    public void A_rotary_fraction_is_written_so_that_it_truncates_back_to_the_same_dims(string variant)
    {
        // transformers takes int(head_dim * fraction): 30 / 44 * 44 is 29.999..., which would lose two rotated dims.
        var config = TinyModels.Config(variant) with { Source = null, HiddenSize = 176, HeadDim = 44, RotaryDim = 30 };
        using var model = new CausalLanguageModel(config);
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        Assert.Equal(30, ModelConfig.FromDirectory(dir).RotaryDim);
    }

    [Theory, MemberData(nameof(AllVariants))]
    public void Cached_decoding_matches_full_recomputation(string variant)
    {
        using var model = TinyModels.Create(variant);
        using var ids = Ids([5, 17, 3, 88, 42, 7, 61, 9], [1, 2, 30, 4, 50, 6, 70, 8]);
        using var full = model.call(new DecoderInput(ids));
        using var cache = new KvCache(model.Config, 2, 8);
        using var prefix = model.call(new DecoderInput(ids.narrow(1, 0, 5), Cache: cache));
        var stepLogits = new List<Tensor> { prefix };
        for (int t = 5; t < 8; t++) stepLogits.Add(model.call(new DecoderInput(ids.narrow(1, t, 1), Cache: cache)));
        using var incremental = cat(stepLogits, 1);
        Assert.True(RelativeError(incremental, full) <= 1e-5, $"relative error {RelativeError(incremental, full)}");
    }

    [Theory, MemberData(nameof(AllVariants))]
    public void Last_position_logits_are_the_full_passes_last_column(string variant)
    {
        using var model = TinyModels.Create(variant);
        using var ids = Ids([0, 0, 3, 88, 42, 7, 61, 9], [1, 2, 30, 4, 50, 6, 70, 8]);
        using var mask = tensor(new long[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }).view(2, 8);
        using var full = model.call(new DecoderInput(ids, mask));
        using var last = model.LastPositionLogits(new DecoderInput(ids, mask));
        Assert.Equal([2, 97], last.shape);
        Assert.True(RelativeError(last, full.select(1, 7)) <= 1e-5, $"prefill: relative error {RelativeError(last, full.select(1, 7))}");
        // Through the cache, one new token after a prefix, as generation steps.
        using var cache = new KvCache(model.Config, 2, 8);
        model.LastPositionLogits(new DecoderInput(ids.narrow(1, 0, 7), mask.narrow(1, 0, 7), Cache: cache)).Dispose();
        using var step = model.LastPositionLogits(new DecoderInput(ids.narrow(1, 7, 1), mask, Cache: cache));
        Assert.True(RelativeError(step, full.select(1, 7)) <= 1e-5, $"cached step: relative error {RelativeError(step, full.select(1, 7))}");
    }

    [Theory, MemberData(nameof(AllVariants))]
    public void Left_padded_batch_matches_rows_run_alone(string variant)
    {
        using var model = TinyModels.Create(variant);
        long[] shortRow = [9, 8, 7], longRow = [1, 2, 3, 4, 5, 6];
        using var batch = Ids([0, 0, 0, .. shortRow], longRow);
        using var mask = tensor(new long[] { 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1 }).view(2, 6);
        using var batched = model.call(new DecoderInput(batch, mask));
        using var aloneShort = model.call(new DecoderInput(Ids(shortRow)));
        using var aloneLong = model.call(new DecoderInput(Ids(longRow)));
        Assert.True(RelativeError(batched[0].narrow(0, 3, 3), aloneShort[0]) <= 1e-5);
        Assert.True(RelativeError(batched[1], aloneLong[0]) <= 1e-5);
    }

    [Theory, MemberData(nameof(AllVariants))]
    public void Changing_a_future_token_never_changes_earlier_logits(string variant)
    {
        using var model = TinyModels.Create(variant);
        using var a = model.call(new DecoderInput(Ids([5, 17, 3, 88, 42, 7])));
        using var b = model.call(new DecoderInput(Ids([5, 17, 3, 88, 1, 60])));
        Assert.True(a.narrow(1, 0, 4).eq(b.narrow(1, 0, 4)).all().item<bool>());
        Assert.False(a.narrow(1, 4, 2).allclose(b.narrow(1, 4, 2)));
    }

    [Theory]
    [InlineData("gpt2", "transformer.h.0.attn.c_attn.weight", new long[] { 32, 96 })]
    [InlineData("gpt2", "transformer.wpe.weight", new long[] { 64, 32 })]
    [InlineData("gptj", "transformer.h.1.attn.q_proj.weight", new long[] { 32, 32 })]
    [InlineData("gptj", "transformer.h.0.mlp.fc_in.bias", new long[] { 128 })]
    [InlineData("gptj", "lm_head.bias", new long[] { 97 })]
    [InlineData("gpt_neox", "gpt_neox.layers.0.attention.query_key_value.weight", new long[] { 96, 32 })]
    [InlineData("gpt_neox", "gpt_neox.layers.1.post_attention_layernorm.bias", new long[] { 32 })]
    [InlineData("gpt_neox", "embed_out.weight", new long[] { 97, 32 })]
    [InlineData("llama", "model.layers.0.self_attn.o_proj.weight", new long[] { 32, 32 })]
    [InlineData("llama", "model.layers.1.mlp.gate_proj.weight", new long[] { 48, 32 })]
    [InlineData("llama", "lm_head.weight", new long[] { 97, 32 })]
    [InlineData("llama_gqa_tied", "model.layers.0.self_attn.k_proj.weight", new long[] { 16, 32 })]
    [InlineData("qwen2", "model.layers.0.self_attn.q_proj.bias", new long[] { 32 })]
    [InlineData("qwen2", "model.layers.1.self_attn.k_proj.bias", new long[] { 16 })]
    [InlineData("qwen2", "model.layers.1.self_attn.v_proj.bias", new long[] { 16 })]
    [InlineData("qwen2", "model.layers.0.self_attn.o_proj.weight", new long[] { 32, 32 })]
    [InlineData("qwen2", "lm_head.weight", new long[] { 97, 32 })]
    [InlineData("qwen2_tied", "model.layers.0.self_attn.k_proj.bias", new long[] { 8 })]
    [InlineData("phi3", "model.layers.0.self_attn.qkv_proj.weight", new long[] { 64, 32 })] // q 4x8, k 2x8, v 2x8
    [InlineData("phi3", "model.layers.1.self_attn.o_proj.weight", new long[] { 32, 32 })]
    [InlineData("phi3", "model.layers.1.mlp.gate_up_proj.weight", new long[] { 96, 32 })]
    [InlineData("phi3", "model.layers.0.mlp.down_proj.weight", new long[] { 32, 48 })]
    [InlineData("phi3", "model.layers.0.input_layernorm.weight", new long[] { 32 })]
    [InlineData("phi3", "model.layers.0.post_attention_layernorm.weight", new long[] { 32 })]
    [InlineData("phi3", "model.norm.weight", new long[] { 32 })]
    [InlineData("phi3", "model.embed_tokens.weight", new long[] { 97, 32 })]
    [InlineData("phi3", "lm_head.weight", new long[] { 97, 32 })]
    public void Parameters_carry_hugging_face_names_and_shapes(string variant, string name, long[] shape)
    {
        using var model = TinyModels.Create(variant);
        var parameters = model.state_dict();
        Assert.True(parameters.ContainsKey(name), $"{name} not among {string.Join(", ", parameters.Keys.Take(8))} ...");
        Assert.Equal(shape, parameters[name].shape);
    }

    [Theory]
    [InlineData("gptj", "transformer.h.0.attn.q_proj.bias")]
    [InlineData("gptj", "transformer.h.0.attn.out_proj.bias")]
    [InlineData("gpt2", "lm_head.weight")]
    [InlineData("llama", "model.layers.0.self_attn.q_proj.bias")]
    [InlineData("llama_gqa_tied", "lm_head.weight")]
    [InlineData("qwen2", "model.layers.0.self_attn.o_proj.bias")]
    [InlineData("qwen2", "model.layers.0.mlp.gate_proj.bias")]
    [InlineData("qwen2", "model.norm.bias")]
    [InlineData("qwen2_tied", "lm_head.weight")]
    [InlineData("phi3", "model.layers.0.self_attn.q_proj.weight")]
    [InlineData("phi3", "model.layers.0.self_attn.qkv_proj.bias")]
    [InlineData("phi3", "model.layers.0.self_attn.o_proj.bias")]
    [InlineData("phi3", "model.layers.0.mlp.gate_proj.weight")]
    [InlineData("phi3", "model.layers.0.mlp.gate_up_proj.bias")]
    [InlineData("phi3_partial_rotary", "lm_head.weight")]
    public void Parameters_the_dialect_lacks_are_absent(string variant, string name)
    {
        using var model = TinyModels.Create(variant);
        Assert.False(model.state_dict().ContainsKey(name));
    }

    [Fact]
    public void Tied_head_shares_the_token_embedding()
    {
        using var model = TinyModels.Create("gpt2");
        using var hidden = randn(1, 2, 32);
        using var logits = model.Logits(hidden);
        using var expected = hidden.matmul(model.Trunk.TokenEmbedding.t());
        Assert.True(logits.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }
}
