using System.Text;

namespace RlhfSharp.Training.Ppo;

/// <summary>The samples.md section of one PPO iteration: a few prompts, their responses and scores.</summary>
static class PpoSamples
{
    /// <summary>The section as Markdown; a cell longer than <paramref name="width"/> characters is shortened.</summary>
    public static string Markdown(IReadOnlyList<string> prompts, IReadOnlyList<string> responses, IReadOnlyList<double> scores, long iteration, int width)
    {
        var text = new StringBuilder($"\n## Iteration {iteration}\n\n| prompt | response | score |\n|---|---|---|\n");
        for (int i = 0; i < prompts.Count; i++)
            text.Append($"| {Cell(prompts[i], width, keepEnd: true)} | {Cell(responses[i], width, keepEnd: false)} | {scores[i]:F3} |\n");
        return text.ToString();
    }

    // A long prompt keeps its end (the last turn, which the response follows); a response keeps its start.
    static string Cell(string s, int width, bool keepEnd) =>
        (s.Length <= width ? s : keepEnd ? "..." + s[^width..] : s[..width] + "...").Replace("|", "\\|").Replace("\n", "<br>");
}
