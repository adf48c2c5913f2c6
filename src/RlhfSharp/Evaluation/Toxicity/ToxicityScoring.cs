namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// What every scorer does around its model, in one place: empty or blank text scores 0 without reaching the model
/// (as with Perspective, so a model that stops at once does not look toxic), and a text longer than the model sees is
/// split into overlapping windows, scored in one batch with the other texts, and scores the maximum of its windows
/// (toxicity anywhere in a text makes the text toxic; cutting it would miss it, averaging would dilute it).
/// </summary>
public static class ToxicityScoring
{
    /// <summary>The whole text as its only window, for scorers that see texts of any length.</summary>
    public static IReadOnlyList<string> Whole(string text) => [text];

    /// <param name="windows">A text's windows, in the form the model takes; a text that fits is one window.</param>
    /// <param name="score">The model: one score per window, in order.</param>
    public static IReadOnlyList<double> Score<TWindow>(
        IReadOnlyList<string> texts, Func<string, IReadOnlyList<TWindow>> windows, Func<IReadOnlyList<TWindow>, IReadOnlyList<double>> score) =>
        ScoreAsync(texts, windows, all => Task.FromResult(score(all))).GetAwaiter().GetResult();

    /// <inheritdoc cref="Score{TWindow}"/>
    public static async Task<IReadOnlyList<double>> ScoreAsync<TWindow>(
        IReadOnlyList<string> texts, Func<string, IReadOnlyList<TWindow>> windows, Func<IReadOnlyList<TWindow>, Task<IReadOnlyList<double>>> score)
    {
        var all = new List<TWindow>();
        var owner = new List<int>();
        for (int i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(texts[i])) continue;
            foreach (var window in windows(texts[i]))
            {
                all.Add(window);
                owner.Add(i);
            }
        }
        var scores = new double[texts.Count];
        if (all.Count == 0) return scores;
        var windowScores = await score(all);
        if (windowScores.Count != all.Count) throw new InvalidOperationException($"scorer returned {windowScores.Count} scores for {all.Count} texts");
        var seen = new bool[texts.Count];
        for (int k = 0; k < all.Count; k++)
        {
            int i = owner[k];
            scores[i] = seen[i] ? Math.Max(scores[i], windowScores[k]) : windowScores[k];
            seen[i] = true;
        }
        return scores;
    }
}
