using System.Text.Json.Nodes;
using RlhfSharp.Models;

namespace RlhfSharp.Tests.Models;

/// <summary>
/// The config.json of today's small open models (the hub's fields, abridged to those a loader reads): what each
/// parses to, or the one-line refusal naming the field we do not implement yet.
/// </summary>
public class PublishedConfigTests
{
    static ModelConfig Parse(string json) => ModelConfig.FromJson(JsonNode.Parse(json)!.AsObject());

    static string Refusal(string json) => Assert.Throws<CheckpointException>(() => Parse(json)).Message;

    const string Qwen25_05B = """
        {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
         "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
         "max_position_embeddings": 32768, "max_window_layers": 21, "model_type": "qwen2", "num_attention_heads": 14,
         "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
         "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true,
         "use_sliding_window": false, "vocab_size": 151936}
        """;

    const string Llama32_1B = """
        {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
         "eos_token_id": [128001, 128008, 128009], "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
         "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
         "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192,
                          "rope_type": "llama3"},
         "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 128256}
        """;

    const string Phi3Mini4k = """
        {"architectures": ["Phi3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 1, "embd_pdrop": 0.0,
         "eos_token_id": 32000, "hidden_act": "silu", "hidden_size": 3072, "intermediate_size": 8192, "max_position_embeddings": 4096,
         "model_type": "phi3", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
         "original_max_position_embeddings": 4096, "pad_token_id": 32000, "resid_pdrop": 0.0, "rms_norm_eps": 1e-05,
         "rope_scaling": null, "rope_theta": 10000.0, "sliding_window": 2047, "tie_word_embeddings": false, "vocab_size": 32064}
        """;

    const string Phi4Mini = """
        {"architectures": ["Phi3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 199999,
         "embd_pdrop": 0.0, "eos_token_id": 199999, "hidden_act": "silu", "hidden_size": 3072, "intermediate_size": 8192,
         "max_position_embeddings": 131072, "model_type": "phi3", "num_attention_heads": 24, "num_hidden_layers": 32,
         "num_key_value_heads": 8, "original_max_position_embeddings": 4096, "pad_token_id": 199999, "partial_rotary_factor": 0.75,
         "resid_pdrop": 0.0, "rms_norm_eps": 1e-05,
         "rope_scaling": {"long_factor": [1.0, 1.118], "short_factor": [1.0, 1.0], "type": "longrope"},
         "rope_theta": 10000.0, "sliding_window": 262144, "tie_word_embeddings": true, "vocab_size": 200064}
        """;

    [Fact]
    public void Qwen25_05B_is_a_tied_gqa_qwen2_with_qkv_biases()
    {
        var config = Parse(Qwen25_05B);
        Assert.Equal((ModelFamily.Qwen2, 896, 24, 14, 2, 64), (config.Family, config.HiddenSize, config.NumLayers, config.NumHeads, config.NumKeyValueHeads, config.HeadDim));
        Assert.Equal((true, true, false), (config.TieWordEmbeddings, config.AttentionBias, config.AttentionOutputBias));
        Assert.Equal((1000000.0, 64, (RopeScaling?)null), (config.RopeTheta, config.RotaryDim, config.RopeScaling));
        Assert.Equal(151645, config.EosTokenId);
    }

    [Fact]
    public void Llama32_1B_has_llama3_rope_scaling()
    {
        var config = Parse(Llama32_1B);
        Assert.Equal((ModelFamily.Llama, 64, 8, 131072), (config.Family, config.HeadDim, config.NumKeyValueHeads, config.MaxPositions));
        Assert.Equal(new RopeScaling { Type = RopeScalingType.Llama3, Factor = 32, LowFrequencyFactor = 1, HighFrequencyFactor = 4, OriginalMaxPositions = 8192 },
            config.RopeScaling);
        Assert.Equal(128001, config.EosTokenId);
    }

    [Fact]
    public void Phi3_mini_4k_loads_with_its_sliding_window_of_2047_positions()
    {
        var config = Parse(Phi3Mini4k);
        // 32 heads of 96 dims, fully rotated; every layer reads the last 2047 positions of its 4096.
        Assert.Equal((ModelFamily.Phi3, 96, 96, 32), (config.Family, config.HeadDim, config.RotaryDim, config.NumKeyValueHeads));
        Assert.Equal((2047, 2047, 4096), (config.WindowOf(0), config.WindowOf(config.NumLayers - 1), config.MaxPositions));
    }

    [Fact]
    public void Phi4_mini_is_refused_for_its_longrope_scaling_and_otherwise_rotates_three_quarters_of_each_head()
    {
        Assert.Equal("config.json: field 'rope_scaling': unsupported rope_type 'longrope' (supported: linear, llama3)", Refusal(Phi4Mini));
        var config = Parse(Phi4Mini.Replace("\"type\": \"longrope\"", "\"type\": \"default\""));
        Assert.Equal((128, 96, 8, true), (config.HeadDim, config.RotaryDim, config.NumKeyValueHeads, config.TieWordEmbeddings));
        Assert.Null(config.RopeScaling);
    }
}
