namespace RlhfSharp.Rewards;

/// <summary>
/// One completion to score: the prompt as the policy saw it, the completion's text (without the prompt), and the other
/// fields of the prompt's data row (a reference answer such as GSM8K's "answer", a test case, an id), as text.
/// </summary>
public sealed record RewardSample(string Prompt, string Completion, IReadOnlyDictionary<string, string> Fields)
{
    static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();

    public RewardSample(string prompt, string completion) : this(prompt, completion, NoFields) { }

    /// <summary>Samples of prompts without fields: prompt i with completion i.</summary>
    public static IReadOnlyList<RewardSample> Of(IReadOnlyList<string> prompts, IReadOnlyList<string> completions) =>
        prompts.Count == completions.Count
            ? prompts.Select((p, i) => new RewardSample(p, completions[i])).ToList()
            : throw new ArgumentException($"{prompts.Count} prompts but {completions.Count} completions", nameof(completions));
}
