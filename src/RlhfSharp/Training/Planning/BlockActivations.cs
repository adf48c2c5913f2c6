using RlhfSharp.Models;

namespace RlhfSharp.Training.Planning;

/// <summary>How a decoder block takes part in a backward pass.</summary>
public enum LayerTraining
{
    /// <summary>Nothing in or below it needs a gradient (hydra's frozen bottom): autograd records nothing.</summary>
    Frozen,
    /// <summary>Its weights train.</summary>
    Full,
    /// <summary>Its base weights are frozen and LoRA adapters on some projections train: gradients flow through it.</summary>
    Lora,
}

/// <summary>What decides which tensors a block's backward pass keeps.</summary>
/// <param name="Training">How the block trains.</param>
/// <param name="AttentionDropout">Attention dropout is on (training with attn_pdrop &gt; 0): LibTorch's CPU flash attention refuses
/// dropout, so the math path runs and keeps the [heads, T, T] probabilities, the dropout noise and the dropped probabilities.</param>
/// <param name="ResidualDropout">Residual dropout is on: each dropout keeps its float noise (CPU dropout is noise x input).</param>
/// <param name="PaddingMask">The batch is padded: flash attention keeps the float [T, T] mask it is given.</param>
/// <param name="LoraWrapped">The projections with an adapter (for <see cref="LayerTraining.Lora"/>).</param>
/// <param name="LoraRank">The adapters' rank.</param>
/// <param name="LoraDropout">The adapters drop out their input (a float copy and its noise kept per projection).</param>
public sealed record BlockActivationSettings(
    LayerTraining Training, bool AttentionDropout = false, bool ResidualDropout = false, bool PaddingMask = false,
    IReadOnlyCollection<LinearShape>? LoraWrapped = null, int LoraRank = 0, bool LoraDropout = false);

/// <summary>One tensor a block keeps for its backward pass: its size per token of the batch.</summary>
public sealed record SavedTensor(string Name, long FloatsPerToken);

/// <summary>
/// The tensors autograd keeps for one decoder block of this codebase (DecoderBlock, CausalSelfAttention, FeedForward, RmsNorm),
/// per token, float32. An op keeps what its backward reads: a LayerNorm its input and two statistics; a projection its input
/// only when its weight trains (LibTorch saves a matmul input only for the weight's gradient); GELU and SiLU their input; a
/// product both factors; the rotary multiply nothing (its cos and sin need no gradient); flash attention (no dropout) q, k, v,
/// its output and the log-sum-exp; grouped-query attention the repeated keys and values it is handed. A view keeps its
/// whole base alive (GPT-2's and GPT-NeoX's fused qkv). The block input is counted here, the block output with the next
/// block (or the final norm).
/// </summary>
public static class BlockActivations
{
    public static IReadOnlyList<SavedTensor> Of(ModelShape shape, BlockActivationSettings settings, long sequence)
    {
        var kept = new List<SavedTensor>();
        if (settings.Training == LayerTraining.Frozen) return kept;
        var config = shape.Config;
        long d = config.HiddenSize, inner = config.IntermediateSize, heads = config.NumHeads;
        long q = heads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim;
        bool grouped = config.NumKeyValueHeads < config.NumHeads;
        bool full = settings.Training == LayerTraining.Full;
        var wrapped = (settings.LoraWrapped ?? []).Select(l => l.Name).ToHashSet();
        bool flash = !settings.AttentionDropout;

        void Keep(string name, long floats) => kept.Add(new SavedTensor(name, floats));
        // A projection's input is kept for its weight's gradient: the weight trains, or an adapter reads the input itself.
        void KeptByProjection(string name, long floats, params string[] projections)
        {
            if (full || (!settings.LoraDropout && projections.Any(wrapped.Contains))) Keep(name, floats);
        }
        // RMSNorm is written out (x * rsqrt(mean(x^2) + eps) * weight): the normalised x is kept only for the weight's gradient.
        void Norm(string name)
        {
            if (config.IsLlamaLayout)
            {
                Keep(name, d + 1);
                if (full) Keep($"{name}, normalised", d);
            }
            else Keep(name, d + 2);
        }

        var (qkvNames, outName, upNames, downName) = Names(config.Family);
        Norm("block input");
        if (config.Family == ModelFamily.GptNeoX && config.ParallelResidual) Keep("block input, second norm's statistics", 2);
        KeptByProjection("normed input of q/k/v", d, [.. qkvNames, .. config.Family == ModelFamily.GptJ ? upNames : []]);

        // Attention. Flash attention keeps q, k and v as it is handed them: GPT-2's are views of c_attn's output, and a fused
        // qkv with as many kv heads as heads hands v as a view of it. The math path (attention dropout) multiplies by
        // batched products, which keep contiguous copies of the scaled q, the scaled k and v.
        bool fused = config.Family is ModelFamily.Gpt2 or ModelFamily.GptNeoX or ModelFamily.Phi3;
        long keySide = grouped ? q : kv;
        if (flash)
        {
            if (config.Family == ModelFamily.Gpt2) Keep("qkv", 3 * d);
            else
            {
                if (fused && !grouped) Keep("fused qkv (v is a view of it)", q + 2 * kv);
                else Keep(grouped ? "repeated v" : "v", keySide);
                Keep(grouped ? "rotated q, repeated rotated k" : "rotated q, k", q + keySide);
            }
            Keep("attention output", q); // flash writes [B, T, heads, headDim]: merging the heads is a view
            Keep("log-sum-exp", heads);
            if (settings.PaddingMask) Keep("float padding mask", sequence);
        }
        else
        {
            Keep("scaled q, scaled k, v", q + 2 * keySide);
            Keep("probabilities, dropout noise, dropped probabilities", 3 * heads * sequence);
            KeptByProjection("merged heads", q, outName);
        }

        // Residual and MLP.
        bool sequential = !config.ParallelResidual;
        if (settings.ResidualDropout) Keep("residual dropout noise", 2 * d);
        if (sequential) Norm("residual after attention");
        if (config.Family != ModelFamily.GptJ) KeptByProjection("normed input of the MLP", d, upNames);
        if (!config.IsLlamaLayout)
        {
            Keep("MLP up output", inner);
            KeptByProjection("activation output", inner, downName);
        }
        else if (config.Family == ModelFamily.Phi3)
        {
            Keep("gate_up output", 2 * inner); // silu reads the gate half, the product the up half: both views
            Keep("silu(gate)", inner);
            KeptByProjection("silu(gate) x up", inner, downName);
        }
        else
        {
            Keep("gate output, silu(gate), up output", 3 * inner);
            KeptByProjection("silu(gate) x up", inner, downName);
        }

        // LoRA: each adapter keeps A x (rank floats) for B's gradient, and with dropout the dropped input and its noise.
        if (settings.Training == LayerTraining.Lora)
            foreach (var projection in settings.LoraWrapped ?? [])
                Keep($"LoRA {projection.Name}", settings.LoraRank + (settings.LoraDropout ? 2 * projection.In : 0));
        return kept;
    }

    /// <summary>Bytes per token of the block: the float32 sum of <see cref="Of"/>.</summary>
    public static long BytesPerToken(ModelShape shape, BlockActivationSettings settings, long sequence) =>
        4 * Of(shape, settings, sequence).Sum(t => t.FloatsPerToken);

    /// <summary>The projections whose inputs are the normed attention input, the attention output, the MLP input and the MLP's last input.</summary>
    static (string[] Qkv, string Out, string[] Up, string Down) Names(ModelFamily family) => family switch
    {
        ModelFamily.Gpt2 => (["c_attn"], "c_proj", ["c_fc"], "c_proj"),
        ModelFamily.GptJ => (["q_proj", "k_proj", "v_proj"], "out_proj", ["fc_in"], "fc_out"),
        ModelFamily.GptNeoX => (["query_key_value"], "dense", ["dense_h_to_4h"], "dense_4h_to_h"),
        ModelFamily.Phi3 => (["qkv_proj"], "o_proj", ["gate_up_proj"], "down_proj"),
        _ => (["q_proj", "k_proj", "v_proj"], "o_proj", ["gate_proj", "up_proj"], "down_proj"),
    };
}
