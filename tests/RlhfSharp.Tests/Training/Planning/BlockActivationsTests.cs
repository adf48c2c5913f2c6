using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Planning;

namespace RlhfSharp.Tests.Training.Planning;

/// <summary>What one block keeps for backward, per token, against hand counts for TinyModels' shapes.</summary>
public class BlockActivationsTests
{
    static ModelShape Shape(string variant) => ModelShape.Of(ModelConfig.FromJson(TinyModels.ConfigJson(variant)));

    static long Floats(string variant, BlockActivationSettings settings, long sequence = 16) =>
        BlockActivations.Of(Shape(variant), settings, sequence).Sum(t => t.FloatsPerToken);

    [Fact]
    public void A_gpt2_block_with_flash_attention_keeps_its_input_qkv_output_and_mlp_tensors()
    {
        // d 32, 4 heads, MLP 128: input + LayerNorm statistics 34, normed 32, qkv 96, attention output 32, log-sum-exp 4,
        // residual + statistics 34, normed 32, MLP up 128, GELU output 128.
        Assert.Equal(34 + 32 + 96 + 32 + 4 + 34 + 32 + 128 + 128, Floats("gpt2", new(LayerTraining.Full)));
    }

    [Fact]
    public void Attention_dropout_keeps_three_heads_x_keys_tensors_and_residual_dropout_its_noise()
    {
        // The math path: scaled q, scaled k and v copies 96, probabilities + noise + dropped 3 x 4 heads x 16 keys, merged
        // heads 32; two residual dropouts' noise 64; the rest as with flash attention.
        var dropout = new BlockActivationSettings(LayerTraining.Full, AttentionDropout: true, ResidualDropout: true);
        Assert.Equal(34 + 32 + 96 + 3 * 4 * 16 + 32 + 64 + 34 + 32 + 128 + 128, Floats("gpt2", dropout, sequence: 16));
        Assert.Equal(3 * 4 * 16, Floats("gpt2", dropout, sequence: 32) - Floats("gpt2", dropout, sequence: 16));
    }

    [Fact]
    public void A_grouped_query_llama_block_keeps_repeated_keys_and_values_and_its_rms_norms()
    {
        // d 32, 4 heads of 8, 2 kv heads, MLP 48, padded batch of 16 positions: input + rsqrt 33, normalised 32, normed 32,
        // repeated v 32, rotated q + repeated rotated k 64, output 32, log-sum-exp 4, mask 16, residual + rsqrt 33,
        // normalised 32, normed 32, gate / silu / up 144, product 48.
        Assert.Equal(33 + 32 + 32 + 32 + 64 + 32 + 4 + 16 + 33 + 32 + 32 + 144 + 48,
            Floats("llama_gqa_tied", new(LayerTraining.Full, PaddingMask: true)));
    }

    [Fact]
    public void A_lora_block_keeps_only_the_inputs_its_adapters_read_and_their_rank_sized_outputs()
    {
        var shape = Shape("llama_gqa_tied");
        var qv = LoraTargets.Resolve(shape, ["q_proj", "v_proj"]);
        // Frozen norms keep no normalised copy; only q_proj/v_proj's input is kept (their adapters read it); the MLP's
        // projections are frozen, so its input and the product are not kept; each adapter keeps A·x (rank 4).
        Assert.Equal(33 + 32 + 32 + 64 + 32 + 4 + 33 + 144 + 2 * 4,
            Floats("llama_gqa_tied", new(LayerTraining.Lora, LoraWrapped: qv, LoraRank: 4)));
        // With dropout each adapter keeps its dropped input and the noise (2 x in) instead of sharing the layer's input.
        Assert.Equal(33 + 32 + 64 + 32 + 4 + 33 + 144 + 2 * (4 + 2 * 32),
            Floats("llama_gqa_tied", new(LayerTraining.Lora, LoraWrapped: qv, LoraRank: 4, LoraDropout: true)));
    }

    [Fact]
    public void A_frozen_block_keeps_nothing() =>
        Assert.Empty(BlockActivations.Of(Shape("gpt_neox"), new(LayerTraining.Frozen), 16));

    [Fact]
    public void A_parallel_neox_block_norms_its_input_twice_and_keeps_the_fused_qkv_its_v_is_a_view_of()
    {
        // d 32, MLP 64: input + statistics 34, second norm's statistics 2, normed 32, fused qkv 96, rotated q and k 64,
        // output 32, log-sum-exp 4, the MLP's normed input 32, up 64, GELU 64.
        Assert.Equal(34 + 2 + 32 + 96 + 64 + 32 + 4 + 32 + 64 + 64, Floats("gpt_neox", new(LayerTraining.Full)));
    }
}
