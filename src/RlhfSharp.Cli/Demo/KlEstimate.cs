using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Demo;

/// <summary>
/// KL(policy || reference) between two models' response distributions, estimated from the policy's own samples: the mean over
/// responses y ~ policy of log p_policy(y) - log p_reference(y), each a sum over the response's tokens. Sampled at temperature 1
/// (and stopped by a rule that reads only the tokens so far, such as a stop sequence), this mean is unbiased.
/// </summary>
internal static class KlEstimate
{
    /// <summary>Each sample's log p_policy(y) - log p_reference(y) in nats: the sample's own log-probabilities (the policy's, at
    /// temperature 1, as the generator records them) minus the reference's log-probabilities of the same tokens.</summary>
    public static double[] LogRatios(IReadOnlyList<GeneratedSequence> samples, CausalLanguageModel reference) =>
        samples.Select(s => s.LogProbs.Sum(p => (double)p) - ResponseLogProbs(reference, s.PromptIds, s.TokenIds).Sum(p => (double)p)).ToArray();

    /// <summary>log p(response[t] | prompt, response[..t]) under <paramref name="model"/> for every response token.</summary>
    public static float[] ResponseLogProbs(CausalLanguageModel model, IReadOnlyList<int> prompt, IReadOnlyList<int> response)
    {
        if (response.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var ids = tensor(prompt.Concat(response).Select(t => (long)t).ToArray()).unsqueeze(0);
        // Position i predicts token i + 1: only the response's tokens, predicted from position prompt - 1 on, are projected.
        return ChunkedLogProbs.Response(model.Hidden(new DecoderInput(ids)), model.Head, ids, prompt.Count, response.Count).squeeze(0).data<float>().ToArray();
    }

    /// <summary>The mean of <paramref name="values"/> and its standard error (sample standard deviation / sqrt(n); 0 for one value).</summary>
    public static (double Mean, double StandardError) MeanAndStandardError(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        double mean = values.Average();
        if (values.Count == 1) return (mean, 0);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return (mean, Math.Sqrt(variance / values.Count));
    }
}
