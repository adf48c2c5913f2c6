using RlhfSharp.Models;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// The memory-bandwidth bound of cached decode: every new token of a batch needs one pass over the weights (shared by
/// the batch's rows) and each row's keys and values cached so far, so no decoder can emit tokens faster than
/// batch · bandwidth / (weight bytes + batch · cache bytes). Compute is ignored: at batch 1 it is far below either.
/// </summary>
internal static class DecodeBound
{
    /// <summary>Bytes of weights a decode step reads in float32: all of <paramref name="parameters"/> except tables that are
    /// only looked up one row at a time (GPT-2's learned positions, and the token embedding when the head is a separate matrix).</summary>
    public static long WeightBytesPerStep(ModelConfig config, long parameters)
    {
        long lookedUp = (config.Family == ModelFamily.Gpt2 ? (long)config.MaxPositions * config.HiddenSize : 0)
            + (config.TieWordEmbeddings ? 0 : (long)config.VocabSize * config.HiddenSize);
        return (parameters - lookedUp) * sizeof(float);
    }

    /// <summary>Bytes of keys and values one row caches per position, every layer's (float32).</summary>
    public static long CacheBytesPerPosition(ModelConfig config) => (long)config.NumLayers * 2 * config.NumKeyValueHeads * config.HeadDim * sizeof(float);

    /// <summary>Cached positions a new token reads, averaged over a run: token i (from 0) reads the prompt and i earlier new tokens.</summary>
    public static double MeanCachedPositions(int promptTokens, int newTokens) => promptTokens + (newTokens - 1) / 2.0;

    /// <summary>Bytes read per decode step of <paramref name="batch"/> rows, on average over the run.</summary>
    public static double BytesPerStep(long weightBytes, long cacheBytesPerPosition, int batch, int promptTokens, int newTokens) =>
        weightBytes + batch * cacheBytesPerPosition * MeanCachedPositions(promptTokens, newTokens);

    /// <summary>Tokens/s at <paramref name="bytesPerSecond"/>: each step emits <paramref name="batch"/> tokens and reads <see cref="BytesPerStep"/>.</summary>
    public static double TokensPerSecond(double bytesPerSecond, double bytesPerStep, int batch) => batch * bytesPerSecond / bytesPerStep;
}
