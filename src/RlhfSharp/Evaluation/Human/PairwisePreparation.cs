using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Evaluation.Human;

/// <summary>
/// Builds blind comparisons: both models answer the same prompts with the same sampling settings and seed; each prompt
/// samples from its own stream (the seed and the prompt's place in the list), so the two models' draws are paired and
/// no batch repeats another's.
/// </summary>
public static class PairwisePreparation
{
    /// <summary>
    /// Picks <paramref name="count"/> prompts (a seeded sample, in a fixed order) and generates each model's
    /// response. Prompts are cut from the left so that prompt + response fits each model's context (<see cref="PromptFit"/>); how
    /// many were cut is written to <paramref name="log"/>. <paramref name="seedB"/> gives model B other sampling streams (default:
    /// the same as A's), so two samples of one model can be compared; the prompt sample is always <paramref name="sampling"/>'s.
    /// </summary>
    public static IReadOnlyList<Comparison> Prepare(
        (string Name, CausalLanguageModel Model, ITextTokenizer Tokenizer) a,
        (string Name, CausalLanguageModel Model, ITextTokenizer Tokenizer) b,
        IReadOnlyList<string> prompts, int count, SamplingOptions sampling, int batchSize = 8, TextWriter? log = null, ulong? seedB = null)
    {
        if (count < 1) throw new RlhfException($"--n must be at least 1, got {count}");
        int[] order = Enumerable.Range(0, prompts.Count).ToArray();
        new Random((int)(sampling.Seed % int.MaxValue)).Shuffle(order);
        var chosen = order.Take(count).Select(i => prompts[i]).ToList();
        // Both budgets first: a max_new_tokens that leaves model B no room is refused before model A generates anything.
        int budgetA = PromptBudget(a, sampling), budgetB = PromptBudget(b, sampling);
        var responsesA = Respond(a, budgetA, chosen, sampling, batchSize, log);
        var responsesB = Respond(b, budgetB, chosen, seedB is { } other ? sampling with { Seed = other } : sampling, batchSize, log);
        return chosen.Select((prompt, i) => new Comparison($"{i + 1}", prompt, responsesA[i], responsesB[i], a.Name, b.Name)).ToList();
    }

    static int PromptBudget((string Name, CausalLanguageModel Model, ITextTokenizer Tokenizer) model, SamplingOptions sampling) =>
        ContextWindow.Of(model.Model.Config, $"{model.Name}'s").PromptRoom(sampling.MaxNewTokens);

    static List<string> Respond((string Name, CausalLanguageModel Model, ITextTokenizer Tokenizer) model, int budget, IReadOnlyList<string> prompts,
        SamplingOptions sampling, int batchSize, TextWriter? log)
    {
        var encoded = prompts.Select(p => model.Tokenizer.Encode(p)).ToList();
        if (PromptFit.CutReport(encoded.Count(ids => ids.Count > budget), encoded.Count, budget) is { } report) log?.WriteLine($"{model.Name}: {report}");
        var generator = new TextGenerator(model.Model, model.Tokenizer);
        var responses = new List<string>();
        for (int start = 0; start < encoded.Count; start += batchSize)
        {
            var ids = encoded.Skip(start).Take(batchSize).Select(p => PromptFit.CutLeft(p, budget)).ToList();
            responses.AddRange(generator.Generate(ids, sampling, firstIndex: start).Select(g => g.Text ?? ""));
        }
        return responses;
    }
}
