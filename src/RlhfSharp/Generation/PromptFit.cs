using RlhfSharp.Models;

namespace RlhfSharp.Generation;

/// <summary>
/// The one rule for prompts longer than a model can take, used by generate, ppo, eval pairwise prepare and eval toxicity:
/// keep the prompt's last tokens (the end of a dialogue, which the response follows) so that prompt + max_new_tokens fits
/// the model's context (the budget: <see cref="ContextWindow.PromptRoom"/>).
/// </summary>
public static class PromptFit
{
    /// <summary>The line that tells how many of <paramref name="total"/> prompts were cut, or null when none was.</summary>
    public static string? CutReport(int cut, int total, int budget) =>
        cut == 0 ? null : $"{cut} of {total} prompts were longer than {budget} tokens and were cut from the left";

    /// <summary>The prompt's last <paramref name="budget"/> ids (the prompt itself when it fits).</summary>
    public static IReadOnlyList<int> CutLeft(IReadOnlyList<int> ids, int budget) => ids.Count <= budget ? ids : ids.Skip(ids.Count - budget).ToList();
}
