using RlhfSharp.Models;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// The decoders the benchmarks time, by name (<c>--config</c>): GPT-2-shaped ones, which the PyTorch reference
/// builds too (<see cref="ReferenceShape"/>), and Qwen2.5-0.5B- and Llama-3.2-1B-shaped ones. Dropout is off: a
/// timed step must be deterministic.
/// </summary>
internal static class BenchModels
{
    /// <summary>The GPT-2-shaped models (the training cases' default).</summary>
    public static readonly string[] Names = ["23m", "98m"];

    public const string Qwen25 = "qwen2.5-0.5b";
    public const string Gpt2Small = "124m";
    public const string Llama32 = "llama3.2-1b";
    public const string Tiny = "tiny";

    /// <summary>Every name <see cref="Named"/> knows.</summary>
    public static IReadOnlyList<string> AllNames => [.. Names, Gpt2Small, Qwen25, Llama32, Tiny];

    /// <summary>d512, 6 layers, 8 heads, vocab 8192: 23.6M parameters.</summary>
    public static ModelConfig Small() => new()
    {
        Family = ModelFamily.Gpt2, VocabSize = 8192, HiddenSize = 512, NumLayers = 6, NumHeads = 8, NumKeyValueHeads = 8,
        HeadDim = 64, IntermediateSize = 2048, MaxPositions = 1024, NormEpsilon = 1e-5, Activation = "gelu_new",
        TieWordEmbeddings = true, AttentionBias = true, EmbeddingDropout = 0, AttentionDropout = 0, ResidualDropout = 0,
    };

    /// <summary>d768, 12 layers, 12 heads, vocab 16384 (GPT-2 small with a smaller vocabulary): 98M parameters.</summary>
    public static ModelConfig Medium() => Small() with
    {
        VocabSize = 16384,
        HiddenSize = 768,
        NumLayers = 12,
        NumHeads = 12,
        NumKeyValueHeads = 12,
        IntermediateSize = 3072,
    };

    /// <summary>GPT-2 small's real shape (d768, 12 layers, 12 heads, vocabulary 50257, tied head): 124,439,808 parameters.</summary>
    public static ModelConfig Gpt2SmallShape() => Medium() with { VocabSize = 50257, EosTokenId = 50256 };

    /// <summary>
    /// d64, 2 layers, 2 heads with GPT-2's whole vocabulary (3.4M parameters, nearly all embeddings): real GPT-2 token
    /// ids fit, so the suites that read real text run end to end in seconds (smoke runs and tests).
    /// </summary>
    public static ModelConfig TinyShape() => Small() with
    {
        VocabSize = 50257,
        HiddenSize = 64,
        NumLayers = 2,
        NumHeads = 2,
        NumKeyValueHeads = 2,
        HeadDim = 32,
        IntermediateSize = 256,
        EosTokenId = 50256,
    };

    /// <summary>
    /// Qwen2.5-0.5B's real shapes with random weights: d896, 24 layers, 14 query and 2 key/value heads of 64, SwiGLU
    /// 4864, vocabulary 151936, tied embeddings, rope_theta 1e6, biases on q/k/v: 494,032,768 parameters, as the real model.
    /// </summary>
    public static ModelConfig Qwen25Shape() => new()
    {
        Family = ModelFamily.Qwen2, VocabSize = 151936, HiddenSize = 896, NumLayers = 24, NumHeads = 14, NumKeyValueHeads = 2,
        HeadDim = 64, IntermediateSize = 4864, MaxPositions = 32768, NormEpsilon = 1e-6, Activation = "silu",
        TieWordEmbeddings = true, Rotary = RotaryLayout.Half, RotaryDim = 64, RopeTheta = 1e6, AttentionBias = true, MlpBias = false,
    };

    /// <summary>
    /// Llama-3.2-1B's real shapes with random weights: d2048, 16 layers, 32 query and 8 key/value heads of 64, SwiGLU
    /// 8192, vocabulary 128256, tied embeddings, rope_theta 500000 with its llama3 rope scaling (factor 32, low/high
    /// frequency factors 1 and 4, 8192 original positions): 1,235,814,400 parameters, as the real model.
    /// </summary>
    public static ModelConfig Llama32Shape() => new()
    {
        Family = ModelFamily.Llama, VocabSize = 128256, HiddenSize = 2048, NumLayers = 16, NumHeads = 32, NumKeyValueHeads = 8,
        HeadDim = 64, IntermediateSize = 8192, MaxPositions = 131072, NormEpsilon = 1e-5, Activation = "silu",
        TieWordEmbeddings = true, Rotary = RotaryLayout.Half, RotaryDim = 64, RopeTheta = 500000, MlpBias = false,
        RopeScaling = new RopeScaling { Type = RopeScalingType.Llama3, Factor = 32, LowFrequencyFactor = 1, HighFrequencyFactor = 4, OriginalMaxPositions = 8192 },
        BosTokenId = 128000, EosTokenId = 128001,
    };

    public static ModelConfig Named(string name) => Named(name, "--config");

    /// <summary>The model called <paramref name="name"/>; an unknown name is a one-line error naming <paramref name="option"/>.</summary>
    public static ModelConfig Named(string name, string option) => name switch
    {
        "23m" => Small(),
        "98m" => Medium(),
        Gpt2Small => Gpt2SmallShape(),
        Qwen25 => Qwen25Shape(),
        Llama32 => Llama32Shape(),
        Tiny => TinyShape(),
        _ => throw new RlhfException($"{option} must be one of {string.Join(", ", AllNames)}, got '{name}'"),
    };

    /// <summary>How a table row names the model: its size, and the real model whose shape it has where there is one.</summary>
    public static string Label(string name, long parameters) =>
        $"{parameters / 1e6:F1}M" + name switch
        {
            Qwen25 => " Qwen2.5-0.5B-shaped",
            Llama32 => " Llama-3.2-1B-shaped",
            Gpt2Small => " GPT-2-shaped",
            _ => "",
        };

    /// <summary>Whether the PyTorch reference (GPT-2 only) can build the model.</summary>
    public static bool HasReference(ModelConfig config) => config.Family == ModelFamily.Gpt2;

    /// <summary>The shape as bench/reference/gpt2_reference.py reads it.</summary>
    public static object ReferenceShape(ModelConfig c) => new
    {
        vocab = c.VocabSize, hidden = c.HiddenSize, layers = c.NumLayers, heads = c.NumHeads, inner = c.IntermediateSize, positions = c.MaxPositions,
    };
}
