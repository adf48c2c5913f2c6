using RlhfSharp.Models;

namespace RlhfSharp.Generation;

/// <summary>
/// The one rule for prompts longer than a model can take, used by generate, ppo, eval pairwise prepare and eval toxicity:
/// keep the prompt's last tokens (the end of a dialogue, which the response follows) so that prompt + max_new_tokens fits
/// the model's positions.
/// </summary>
public static class PromptFit
{
    /// <summary>Prompt tokens that fit beside <paramref name="maxNewTokens"/> in <paramref name="maxPositions"/> (and within
    /// <paramref name="maxLength"/>, where a command has one); below 1 when nothing fits.</summary>
    public static int Room(int maxPositions, int maxNewTokens, int maxLength = int.MaxValue) => Math.Min(maxLength, maxPositions - maxNewTokens);

    /// <summary>How many prompt tokens fit beside <paramref name="maxNewTokens"/> in the model's positions; an error naming
    /// --max-new-tokens when none do.</summary>
    public static int Budget(ModelConfig model, int maxNewTokens)
    {
        int budget = Room(model.MaxPositions, maxNewTokens);
        if (budget < 1) throw new RlhfException($"--max-new-tokens {maxNewTokens} leaves no room for a prompt in the model's {model.MaxPositions} positions");
        return budget;
    }

    /// <summary>The line that tells how many of <paramref name="total"/> prompts were cut, or null when none was.</summary>
    public static string? CutReport(int cut, int total, int budget) =>
        cut == 0 ? null : $"{cut} of {total} prompts were longer than {budget} tokens and were cut from the left";

    /// <summary>The prompt's last <paramref name="budget"/> ids (the prompt itself when it fits).</summary>
    public static IReadOnlyList<int> CutLeft(IReadOnlyList<int> ids, int budget) => ids.Count <= budget ? ids : ids.Skip(ids.Count - budget).ToList();
}
