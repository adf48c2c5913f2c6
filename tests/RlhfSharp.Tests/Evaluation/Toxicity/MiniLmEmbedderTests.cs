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

    static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
