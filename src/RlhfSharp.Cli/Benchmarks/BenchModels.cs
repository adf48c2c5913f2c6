using RlhfSharp.Models;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// The GPT-2-shaped decoders the benchmarks time, by name (<c>--config</c>). The PyTorch reference builds the
/// same shapes from <see cref="ReferenceShape"/>. Dropout is off: a timed step must be deterministic.
/// </summary>
internal static class BenchModels
{
    public static readonly string[] Names = ["23m", "98m"];

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

    public static ModelConfig Named(string name) => name switch
    {
        "23m" => Small(),
        "98m" => Medium(),
        _ => throw new RlhfException($"--config must be one of {string.Join(", ", Names)}, got '{name}'"),
    };

    /// <summary>The shape as bench/reference/gpt2_reference.py reads it.</summary>
    public static object ReferenceShape(ModelConfig c) => new
    {
        vocab = c.VocabSize, hidden = c.HiddenSize, layers = c.NumLayers, heads = c.NumHeads, inner = c.IntermediateSize, positions = c.MaxPositions,
    };
}
