using RlhfSharp.Reporting;

namespace RlhfSharp.Training.Ppo;

/// <summary>The samples.md section of one PPO iteration: a few prompts, their responses and scores.</summary>
internal static class PpoSamples
{
    /// <summary>The section as Markdown, after a blank line; a cell longer than <paramref name="width"/> characters is shortened.</summary>
    public static string Markdown(IReadOnlyList<string> prompts, IReadOnlyList<string> responses, IReadOnlyList<double> scores, long iteration, int width) =>
        "\n" + new ReportDocument().Heading($"Iteration {iteration}")
            .Table(["prompt", "response", "score"], prompts.Select((prompt, i) => (IReadOnlyList<Inline>)
                [Shorten(prompt, width, keepEnd: true), Shorten(responses[i], width, keepEnd: false), $"{scores[i]:F3}"]))
            .ToMarkdown();

    // A long prompt keeps its end (the last turn, which the response follows); a response keeps its start.
    static string Shorten(string s, int width, bool keepEnd) => s.Length <= width ? s : keepEnd ? "..." + s[^width..] : s[..width] + "...";
}
