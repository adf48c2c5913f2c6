namespace RlhfSharp.Models;

/// <summary>The checkpoint dialects the one decoder implementation reads and writes.</summary>
public enum ModelFamily
{
    /// <summary>GPT-2: learned positions, Conv1D weights stored [in, out], gelu_new, tied lm_head.</summary>
    Gpt2,
    /// <summary>GPT-J: interleaved rotary on the first rotary_dim dims, parallel attention + MLP from one LayerNorm.</summary>
    GptJ,
    /// <summary>GPT-NeoX / Pythia: rotate-half rotary on rotary_pct of each head, fused per-head query_key_value.</summary>
    GptNeoX,
    /// <summary>Llama: RMSNorm, SwiGLU, RoPE with rope_theta, grouped-query attention.</summary>
    Llama,
    /// <summary>Qwen2 / Qwen2.5: the Llama layout with biases on the q/k/v projections (not o_proj).</summary>
    Qwen2,
    /// <summary>Phi-3 / Phi-4-mini: the Llama layout with fused qkv_proj and gate_up_proj, rotary on partial_rotary_factor of each head.</summary>
    Phi3,
    /// <summary>Mistral: the Llama layout with sliding-window attention (<see cref="ModelConfig.SlidingWindow"/>).</summary>
    Mistral,
}

/// <summary>How rotary embeddings pair the dimensions they rotate.</summary>
public enum RotaryLayout
{
    /// <summary>No rotary embedding (learned absolute positions).</summary>
    None,
    /// <summary>Pairs (0,1), (2,3), ... ("rotate every two", GPT-J).</summary>
    Interleaved,
    /// <summary>Pairs (i, i + d/2) ("rotate half", GPT-NeoX, Llama, Qwen2, Phi-3).</summary>
    Half,
}
