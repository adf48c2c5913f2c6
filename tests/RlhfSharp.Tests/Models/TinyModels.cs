using System.Text.Json.Nodes;
using RlhfSharp.Models;

namespace RlhfSharp.Tests.Models;

/// <summary>Tiny random configs of every dialect, written as the config.json transformers would hold.</summary>
public static class TinyModels
{
    public static readonly string[] Variants = ["gpt2", "gptj", "gpt_neox", "gpt_neox_sequential", "llama", "llama_gqa_tied", "mistral", "mistral_full_attention"];

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

    public static ModelConfig Config(string variant) => ModelConfig.FromJson(ConfigJson(variant));

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
