using System.Text.Json.Nodes;
using RlhfSharp.Models;

namespace RlhfSharp.Tests.Models;

/// <summary>Tiny random configs of every dialect, written as the config.json transformers would hold.</summary>
public static class TinyModels
{
    public static readonly string[] Variants =
        ["gpt2", "gptj", "gpt_neox", "gpt_neox_sequential", "llama", "llama_gqa_tied", "llama3_rope", "llama_linear_rope", "qwen2", "qwen2_tied",
         "qwen2_window", "phi3", "phi3_partial_rotary", "phi3_window", "mistral", "mistral_full_attention"];

    /// <summary>The dialects added for today's small open models (Llama 3.x rope scaling, Qwen2, Mistral, Phi-3).</summary>
    public static readonly string[] NewDialectVariants =
        ["llama3_rope", "llama_linear_rope", "qwen2", "qwen2_tied", "qwen2_window", "phi3", "phi3_partial_rotary", "phi3_window", "mistral"];

    public static JsonObject ConfigJson(string variant) => variant switch
    {
        "gpt2" => new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 97, ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 64,
            ["n_inner"] = null, ["activation_function"] = "gelu_new", ["layer_norm_epsilon"] = 1e-5, ["eos_token_id"] = 96,
        },
        "gptj" => new JsonObject
        {
            ["model_type"] = "gptj", ["vocab_size"] = 97, ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 64,
            ["rotary_dim"] = 4, ["activation_function"] = "gelu_new", ["layer_norm_epsilon"] = 1e-5, ["eos_token_id"] = 96,
        },
        "gpt_neox" or "gpt_neox_sequential" => new JsonObject
        {
            ["model_type"] = "gpt_neox", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["intermediate_size"] = 64, ["max_position_embeddings"] = 64, ["rotary_pct"] = 0.5, ["rotary_emb_base"] = 10000,
            ["use_parallel_residual"] = variant == "gpt_neox", ["hidden_act"] = "gelu", ["eos_token_id"] = 96,
        },
        "llama" or "llama_gqa_tied" => new JsonObject
        {
            ["model_type"] = "llama", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = variant == "llama" ? 4 : 2, ["intermediate_size"] = 48, ["max_position_embeddings"] = 64,
            ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 500000.0, ["hidden_act"] = "silu", ["tie_word_embeddings"] = variant != "llama",
            ["eos_token_id"] = 96,
        },
        // Llama 3.1/3.2 rescaling with a tiny original context (16), so the rescaled bands matter within a short sequence.
        "llama3_rope" => Llama3Rope(),
        // The legacy "type" key, as older configs spell it.
        "llama_linear_rope" => With(ConfigJson("llama"), ("rope_scaling", new JsonObject { ["type"] = "linear", ["factor"] = 4.0 })),
        "qwen2" or "qwen2_tied" => new JsonObject
        {
            ["model_type"] = "qwen2", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = variant == "qwen2" ? 2 : 1, ["intermediate_size"] = 48, ["max_position_embeddings"] = 64,
            ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 1000000.0, ["hidden_act"] = "silu", ["tie_word_embeddings"] = variant == "qwen2_tied",
            ["use_sliding_window"] = false, ["sliding_window"] = 64, ["max_window_layers"] = 2, ["rope_scaling"] = null,
            ["eos_token_id"] = 96,
        },
        "phi3" or "phi3_partial_rotary" => new JsonObject
        {
            ["model_type"] = "phi3", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 2, ["intermediate_size"] = 48, ["max_position_embeddings"] = 64, ["original_max_position_embeddings"] = 64,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["hidden_act"] = "silu", ["tie_word_embeddings"] = variant == "phi3_partial_rotary",
            // Phi-4-mini rotates 3/4 of each head; a window as long as the context is no window.
            ["partial_rotary_factor"] = variant == "phi3" ? 1.0 : 0.75, ["sliding_window"] = 64, ["rope_scaling"] = null,
            ["embd_pdrop"] = 0.0, ["resid_pdrop"] = 0.0, ["attention_dropout"] = 0.0, ["eos_token_id"] = 96,
        },
        // Qwen2 with use_sliding_window: only the top layer (index >= max_window_layers) reads a window of 3.
        "qwen2_window" => With(ConfigJson("qwen2"), ("use_sliding_window", true), ("sliding_window", 3), ("max_window_layers", 1)),
        // Phi-3-mini-4k's window is shorter than its context (2047 of 4096): here 3 of 64.
        "phi3_window" => With(ConfigJson("phi3_partial_rotary"), ("sliding_window", 3)),
        // A window of 3 positions, shorter than the tests' sequences, so every test runs past it.
        "mistral" or "mistral_full_attention" => new JsonObject
        {
            ["model_type"] = "mistral", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = variant == "mistral" ? 2 : 4, ["intermediate_size"] = 48, ["max_position_embeddings"] = 64,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["hidden_act"] = "silu", ["tie_word_embeddings"] = variant != "mistral",
            ["sliding_window"] = variant == "mistral" ? 3 : null, ["eos_token_id"] = 96,
        },
        _ => throw new ArgumentException(variant),
    };

    static JsonObject Llama3Rope() => With(ConfigJson("llama"), ("rope_theta", 10000.0), ("rope_scaling", new JsonObject
    {
        ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 16,
    }));

    /// <summary><paramref name="json"/> with some fields replaced.</summary>
    public static JsonObject With(JsonObject json, params (string Name, JsonNode? Value)[] fields)
    {
        foreach (var (name, value) in fields) json[name] = value;
        return json;
    }

    public static ModelConfig Config(string variant) => ModelConfig.FromJson(ConfigJson(variant));

    /// <summary>
    /// A folder holding a random <paramref name="variant"/> over GPT-2's 50,257-token vocabulary with the GPT-2 tokenizer
    /// files beside it, so the CLI can train and generate from text with it.
    /// </summary>
    public static string SavedWithGpt2Tokenizer(string variant)
    {
        string dir = TestPaths.NewTempDirectory(variant);
        var config = ModelConfig.FromJson(With(ConfigJson(variant), ("vocab_size", 50257), ("eos_token_id", 50256)));
        TorchSharp.torch.manual_seed(5);
        using (var model = new CausalLanguageModel(config)) model.SavePretrained(dir);
        PretrainedWeights.CopyTokenizerFiles(TestPaths.Shared("gpt2-tokenizer"), dir);
        return dir;
    }

    /// <summary>A random 97-token <paramref name="variant"/> with GPT-2's 50,257-token tokenizer beside it: a mismatched pair.</summary>
    public static string SavedWithOversizedTokenizer(string variant)
    {
        string dir = TestPaths.NewTempDirectory("small-vocab");
        using (var model = Create(variant)) model.SavePretrained(dir);
        PretrainedWeights.CopyTokenizerFiles(TestPaths.Shared("gpt2-tokenizer"), dir);
        return dir;
    }

    /// <summary>A random model with weights seeded per variant.</summary>
    public static CausalLanguageModel Create(string variant, long seed = 1)
    {
        TorchSharp.torch.manual_seed(seed);
        var model = new CausalLanguageModel(Config(variant));
        // Non-trivial norms and biases, so a mis-loaded or mis-named one cannot hide behind ones/zeros.
        using (TorchSharp.torch.no_grad())
            foreach (var (name, parameter) in model.named_parameters())
                if (name.EndsWith("bias") || name.Contains("norm") || name.Contains("ln_"))
                    parameter.add_(TorchSharp.torch.randn_like(parameter) * 0.1);
        model.eval();
        return model;
    }
}
