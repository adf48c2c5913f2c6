using RlhfSharp.Models;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// The decoders the benchmarks time, by name (<c>--config</c>): GPT-2-shaped ones, which the PyTorch reference
/// builds too (<see cref="ReferenceShape"/>), and a Qwen2.5-0.5B-shaped one for generation. Dropout is off: a
/// timed step must be deterministic.
/// </summary>
internal static class BenchModels
{
    /// <summary>The GPT-2-shaped models (the training cases' default).</summary>
    public static readonly string[] Names = ["23m", "98m"];

    public const string Qwen25 = "qwen2.5-0.5b";

    /// <summary>Every name <see cref="Named"/> knows.</summary>
    public static IReadOnlyList<string> AllNames => [.. Names, Qwen25];

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

    /// <summary>GPT-2 small's real shapes with random weights: d768, 12 layers, 12 heads, its 50,257-token vocabulary (so
    /// GPT-2's tokenizer feeds it), 1024 positions, tied embeddings: 124,439,808 parameters, as the real model.</summary>
    public static ModelConfig Gpt2SmallShape() => Medium() with { VocabSize = 50257, EosTokenId = 50256 };

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

    public static ModelConfig Named(string name) => name switch
    {
        "23m" => Small(),
        "98m" => Medium(),
        Qwen25 => Qwen25Shape(),
        _ => throw new RlhfException($"--config must be one of {string.Join(", ", AllNames)}, got '{name}'"),
    };

    /// <summary>How a table row names the model: its size, and the real model whose shape it has where there is one.</summary>
    public static string Label(string name, long parameters) =>
        $"{parameters / 1e6:F1}M" + (name == Qwen25 ? " Qwen2.5-0.5B-shaped" : "");

    /// <summary>Whether the PyTorch reference (GPT-2 only) can build the model.</summary>
    public static bool HasReference(ModelConfig config) => config.Family == ModelFamily.Gpt2;

    /// <summary>The shape as bench/reference/gpt2_reference.py reads it.</summary>
    public static object ReferenceShape(ModelConfig c) => new
    {
        vocab = c.VocabSize, hidden = c.HiddenSize, layers = c.NumLayers, heads = c.NumHeads, inner = c.IntermediateSize, positions = c.MaxPositions,
    };
}
