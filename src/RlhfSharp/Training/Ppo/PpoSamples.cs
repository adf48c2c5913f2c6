using RlhfSharp.Reporting;

namespace RlhfSharp.Training.Ppo;

/// <summary>The samples.md section of one PPO iteration (or GRPO step): a few prompts, their responses and scores.</summary>
internal static class PpoSamples
{
    /// <summary>The section as Markdown, after a blank line; a cell longer than <paramref name="width"/> characters is shortened.</summary>
    /// <param name="unit">What the heading calls the step: "Iteration" (PPO) or "Step" (GRPO, RLOO).</param>
    public static string Markdown(IReadOnlyList<string> prompts, IReadOnlyList<string> responses, IReadOnlyList<double> scores, long iteration, int width,
        string unit = "Iteration") =>
        "\n" + new ReportDocument().Heading($"{unit} {iteration}")
            .Table(["prompt", "response", "score"], prompts.Select((prompt, i) => (IReadOnlyList<Inline>)
                [Shorten(prompt, width, keepEnd: true), Shorten(responses[i], width, keepEnd: false), $"{scores[i]:F3}"]))
            .ToMarkdown();

    // A long prompt keeps its end (the last turn, which the response follows); a response keeps its start.
    static string Shorten(string s, int width, bool keepEnd) => s.Length <= width ? s : keepEnd ? "..." + s[^width..] : s[..width] + "...";
}
