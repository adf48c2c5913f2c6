using System.Text.RegularExpressions;

namespace RlhfSharp.Annotation;

/// <summary>Splits an HH-style prompt ("\n\nHuman: ...\n\nAssistant: ...") into turns for display.</summary>
public static partial class DialogueTurns
{
    // A marker opens the text or follows a blank line, as in HH-RLHF.
    [GeneratedRegex(@"(?:\A|\n\n)(Human|Assistant):", RegexOptions.CultureInvariant)]
    private static partial Regex Marker();

    /// <summary>Turns in order, trimmed; empty ones (the final "Assistant:" that awaits the response) are left out.</summary>
    public static IReadOnlyList<DialogueTurn> Split(string prompt)
    {
        var turns = new List<DialogueTurn>();
        var markers = Marker().Matches(prompt);
        Add(turns, "Prompt", prompt[..(markers.Count > 0 ? markers[0].Index : prompt.Length)]);
        for (int i = 0; i < markers.Count; i++)
        {
            var marker = markers[i];
            int end = i + 1 < markers.Count ? markers[i + 1].Index : prompt.Length;
            Add(turns, marker.Groups[1].Value, prompt[(marker.Index + marker.Length)..end]);
        }
        return turns;
    }

    static void Add(List<DialogueTurn> turns, string speaker, string text)
    {
        string trimmed = text.Trim();
        if (trimmed.Length > 0) turns.Add(new DialogueTurn(speaker, trimmed));
    }
}
