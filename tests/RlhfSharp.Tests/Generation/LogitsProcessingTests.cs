using RlhfSharp.Generation;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Generation;

public class LogitsProcessingTests
{
    static float[] Row(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void Top_k_keeps_the_k_largest()
    {
        using var logits = tensor(new float[] { 1, 4, 2, 3 }).unsqueeze(0);
        Assert.Equal([float.NegativeInfinity, 4, float.NegativeInfinity, 3], Row(LogitsProcessing.TopK(logits, 2)));
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_p()
    {
        // Probabilities 0.5, 0.25, 0.125, 0.125: p = 0.7 needs the two most likely (0.5 < 0.7 <= 0.75).
        using var logits = tensor(new float[] { 0.125f, 0.5f, 0.125f, 0.25f }).log().unsqueeze(0);
        float[] kept = Row(LogitsProcessing.TopP(logits, 0.7));
        Assert.Equal(new[] { false, true, false, true }, kept.Select(float.IsFinite).ToArray());
        // p below the top probability still keeps the most likely token.
        Assert.Equal(new[] { false, true, false, false }, Row(LogitsProcessing.TopP(logits, 0.1)).Select(float.IsFinite).ToArray());
    }

    [Fact]
    public void Temperature_divides_logits()
    {
        using var logits = tensor(new float[] { 1, -2 }).unsqueeze(0);
        Assert.Equal([2f, -4f], Row(LogitsProcessing.Temperature(logits, 0.5)));
    }
}
