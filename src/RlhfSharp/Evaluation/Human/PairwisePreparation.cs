using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// Builds blind comparisons: both models answer the same prompts with the same sampling settings and seed.
/// </summary>
public static class PairwisePreparation
{
    /// <summary>
    /// Picks <paramref name="count"/> prompts (a seeded sample, in a fixed order) and generates each model's
    /// response. Prompts are cut from the left so that prompt + response fits each model.
    /// </summary>
    public static IReadOnlyList<Comparison> Prepare(
        (string Name, CausalLanguageModel Model, ITextTokenizer Tokenizer) a,
        (string Name, CausalLanguageModel Model, ITextTokenizer Tokenizer) b,
        IReadOnlyList<string> prompts, int count, SamplingOptions sampling, int batchSize = 8)
    {
        if (count < 1) throw new RlhfException($"--n must be at least 1, got {count}");
        int[] order = Enumerable.Range(0, prompts.Count).ToArray();
        new Random((int)(sampling.Seed % int.MaxValue)).Shuffle(order);
        var chosen = order.Take(count).Select(i => prompts[i]).ToList();
        var responsesA = Respond(a.Model, a.Tokenizer, chosen, sampling, batchSize);
        var responsesB = Respond(b.Model, b.Tokenizer, chosen, sampling, batchSize);
        return chosen.Select((prompt, i) => new Comparison($"{i + 1}", prompt, responsesA[i], responsesB[i], a.Name, b.Name)).ToList();
    }

    static List<string> Respond(CausalLanguageModel model, ITextTokenizer tokenizer, IReadOnlyList<string> prompts, SamplingOptions sampling, int batchSize)
    {
        int budget = model.Config.MaxPositions - sampling.MaxNewTokens;
        if (budget < 1) throw new RlhfException($"--max-new-tokens {sampling.MaxNewTokens} leaves no room for a prompt in {model.Config.MaxPositions} positions");
        var generator = new TextGenerator(model, tokenizer);
        var responses = new List<string>();
        foreach (var chunk in prompts.Chunk(batchSize))
        {
            var ids = chunk.Select(p => (IReadOnlyList<int>)tokenizer.Encode(p).TakeLast(budget).ToList()).ToList();
            responses.AddRange(generator.Generate(ids, sampling).Select(g => g.Text ?? ""));
        }
        return responses;
    }
}
