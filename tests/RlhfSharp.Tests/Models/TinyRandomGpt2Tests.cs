using RlhfSharp.Generation;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>hf-internal-testing/tiny-random-gpt2 against the outputs recorded in its EXPECTED.md.</summary>
public class TinyRandomGpt2Tests
{
    public static string ModelDir => TestPaths.Shared("models", "tiny-random-gpt2");

    [Fact]
    public void Last_position_logits_match_the_reference_forward_pass()
    {
        using var model = CausalLanguageModel.FromPretrained(ModelDir);
        using var logits = model.call(new DecoderInput(tensor(new long[] { 0, 0, 195, 731 }).view(1, 4)));
        float[] first = logits[0, 3].narrow(0, 0, 5).data<float>().ToArray();
        Assert.Equal([0.293893f, 0.043940f, -0.051725f, -0.007995f, -0.162092f], first, new FloatComparer(1e-5f));
    }

    [Fact]
    public void Greedy_batch_generation_reproduces_the_recorded_sequences()
    {
        using var model = CausalLanguageModel.FromPretrained(ModelDir);
        var generator = new TextGenerator(model);
        var results = generator.Generate([[0, 0, 0, 52], [0, 0, 195, 731]],
            new SamplingOptions { Greedy = true, MaxNewTokens = 6, StopAtEos = false });
        Assert.Equal([204, 204, 204, 204, 204, 204], results[0].TokenIds);
        Assert.Equal([731, 114, 114, 114, 114, 114], results[1].TokenIds);
        Assert.All(results, r => Assert.Equal(FinishReason.Length, r.FinishReason));
    }

    [Fact]
    public void Generation_log_probs_are_the_models_own_log_probabilities()
    {
        using var model = CausalLanguageModel.FromPretrained(ModelDir);
        var result = new TextGenerator(model).Generate([[0, 0, 195, 731]],
            new SamplingOptions { MaxNewTokens = 3, Temperature = 0.7, TopK = 50, Seed = 3, StopAtEos = false })[0];
        long[] all = [0, 0, 195, 731, .. result.TokenIds.Select(t => (long)t)];
        using var logits = model.call(new DecoderInput(tensor(all).view(1, all.Length)));
        using var logProbs = logits.log_softmax(-1);
        for (int i = 0; i < 3; i++)
            Assert.Equal(logProbs[0, 3 + i, result.TokenIds[i]].item<float>(), result.LogProbs[i], 1e-4f);
    }
}
