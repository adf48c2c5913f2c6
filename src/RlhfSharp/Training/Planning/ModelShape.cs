using RlhfSharp.Models;

namespace RlhfSharp.Training.Planning;

/// <summary>One linear projection of a decoder block, under the name PEFT targets it by (the last part of its module path).</summary>
/// <param name="Name">Its module name: q_proj, c_attn, query_key_value, gate_up_proj ...</param>
/// <param name="In">Input features.</param>
/// <param name="Out">Output features.</param>
/// <param name="HasBias">Whether it carries a bias.</param>
public sealed record LinearShape(string Name, long In, long Out, bool HasBias)
{
    public long Parameters => In * Out + (HasBias ? Out : 0);
}

/// <summary>
/// The parameter counts of a decoder as this codebase builds it (<see cref="CausalLanguageModel"/>, <see cref="SequenceRewardModel"/>,
/// <see cref="ValueHead"/>), from its config alone: what the memory plan multiplies by bytes per parameter.
/// </summary>
public sealed record ModelShape
{
    public required ModelConfig Config { get; init; }
    /// <summary>The linear projections of one block, in the order the block runs them.</summary>
    public required IReadOnlyList<LinearShape> BlockLinears { get; init; }
    /// <summary>Norm weights and biases of one block.</summary>
    public required long BlockNormParameters { get; init; }
    /// <summary>Token embeddings, and GPT-2's learned positions.</summary>
    public required long EmbeddingParameters { get; init; }
    public required long FinalNormParameters { get; init; }
    /// <summary>The untied LM head (0 when it is the token embedding).</summary>
    public required long UntiedHeadParameters { get; init; }

    public long BlockParameters => BlockLinears.Sum(l => l.Parameters) + BlockNormParameters;

    /// <summary>Embeddings, blocks and final norm: the trunk a value model or a reward model is built on.</summary>
    public long TrunkParameters => EmbeddingParameters + Config.NumLayers * BlockParameters + FinalNormParameters;

    /// <summary>The causal language model: trunk and LM head.</summary>
    public long CausalLmParameters => TrunkParameters + UntiedHeadParameters;

    /// <summary>A reward model: the trunk and a one-output score head without bias.</summary>
    public long RewardModelParameters => TrunkParameters + Config.HiddenSize;

    /// <summary>PPO's value head: one output with a bias.</summary>
    public long ValueHeadParameters => Config.HiddenSize + 1;

    /// <summary>Multiply-accumulates of one token through one block's projections (attention's own excluded).</summary>
    public long BlockMatmulParameters => BlockLinears.Sum(l => l.In * l.Out);

    /// <summary>Multiply-accumulates of one token through the LM head (tied or not: it is a matmul either way).</summary>
    public long HeadMatmulParameters => (long)Config.VocabSize * Config.HiddenSize;

    public static ModelShape Of(ModelConfig config)
    {
        long d = config.HiddenSize, inner = config.IntermediateSize;
        long q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim;
        bool layerNorm = !config.IsLlamaLayout;
        long norm = layerNorm ? 2 * d : d;
        int normsPerBlock = config.Family == ModelFamily.GptJ ? 1 : 2;
        return new ModelShape
        {
            Config = config,
            BlockLinears = Linears(config, d, inner, q, kv),
            BlockNormParameters = normsPerBlock * norm,
            EmbeddingParameters = config.VocabSize * d + (config.Family == ModelFamily.Gpt2 ? config.MaxPositions * d : 0),
            FinalNormParameters = norm,
            UntiedHeadParameters = config.TieWordEmbeddings ? 0 : config.VocabSize * d + (config.Family == ModelFamily.GptJ ? config.VocabSize : 0),
        };
    }

    /// <summary>Each dialect's projections (see CausalSelfAttention and FeedForward), named as PEFT's target_modules name them.</summary>
    static IReadOnlyList<LinearShape> Linears(ModelConfig config, long d, long inner, long q, long kv) => config.Family switch
    {
        ModelFamily.Gpt2 =>
        [
            new("c_attn", d, 3 * d, true), new("c_proj", d, d, true),
            new("c_fc", d, inner, true), new("c_proj", inner, d, true),
        ],
        ModelFamily.GptJ =>
        [
            new("q_proj", d, q, config.AttentionBias), new("k_proj", d, kv, config.AttentionBias), new("v_proj", d, kv, config.AttentionBias),
            new("out_proj", q, d, config.AttentionOutputBias), new("fc_in", d, inner, true), new("fc_out", inner, d, true),
        ],
        ModelFamily.GptNeoX =>
        [
            new("query_key_value", d, 3 * d, config.AttentionBias), new("dense", d, d, config.AttentionBias),
            new("dense_h_to_4h", d, inner, true), new("dense_4h_to_h", inner, d, true),
        ],
        ModelFamily.Phi3 =>
        [
            new("qkv_proj", d, q + 2 * kv, config.AttentionBias), new("o_proj", q, d, config.AttentionOutputBias),
            new("gate_up_proj", d, 2 * inner, config.MlpBias), new("down_proj", inner, d, config.MlpBias),
        ],
        _ =>
        [
            new("q_proj", d, q, config.AttentionBias), new("k_proj", d, kv, config.AttentionBias), new("v_proj", d, kv, config.AttentionBias),
            new("o_proj", q, d, config.AttentionOutputBias), new("gate_proj", d, inner, config.MlpBias), new("up_proj", d, inner, config.MlpBias),
            new("down_proj", inner, d, config.MlpBias),
        ],
    };
}
