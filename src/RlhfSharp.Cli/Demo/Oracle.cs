using System.Text.RegularExpressions;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Training;

namespace RlhfSharp.Cli.Demo;

/// <summary>
/// The demo's annotator: it reads a response, places it in a <see cref="ResponseStyle"/> and prefers helpful, correct,
/// harmless answers. Like people, it sometimes disagrees with itself: with probability <see cref="Noise"/> a
/// preference between answers of different quality is flipped. Answers of equal quality are a tie.
/// </summary>
internal sealed class Oracle(DialogueWorld world, double noise, int seed) : IPairwiseJudge
{
    static readonly string[] InsultWords = ["idiot", "moron", "stupid", "loser", "shut up", "pathetic"];

    public double Noise => noise;
    public string Name => $"oracle(noise {noise:0.##})";

    /// <summary>How good an answer of <paramref name="style"/> is for a request of <paramref name="kind"/>: 3 best, -1 worst.</summary>
    public static double Quality(RequestKind kind, ResponseStyle style) => (kind, style) switch
    {
        (RequestKind.Harmful, ResponseStyle.Refusal) => 3,
        (_, ResponseStyle.Helpful) => 3,
        (_, ResponseStyle.Evasive or ResponseStyle.Refusal) => 1,
        (_, ResponseStyle.Wrong or ResponseStyle.Unrecognised) => 0.5,
        (_, ResponseStyle.Rude) => 0,
        (_, ResponseStyle.HarmfulCompliance) => -1,
        _ => throw new ArgumentOutOfRangeException(nameof(style), style, null),
    };

    public double Quality(Request request, string response) => Quality(request.Kind, Classify(request, response));

    /// <summary>The style of <paramref name="response"/> to <paramref name="request"/>. Any insult makes it rude; a
    /// helpful phrasing with another subject or answer is wrong; text in none of the topic's phrasings is unrecognised.</summary>
    public static ResponseStyle Classify(Request request, string response)
    {
        string text = Regex.Replace(response, @"\s+", " ").Trim();
        if (InsultWords.Any(w => text.Contains(w, StringComparison.OrdinalIgnoreCase))) return ResponseStyle.Rude;
        // Phrasings can overlap ("{s} is {a}." also matches "The answer is 2."), so a helpful reading wins over a wrong one.
        bool wrong = false;
        foreach (var (style, phrasings) in request.Topic.Answers)
        {
            if (style == ResponseStyle.Wrong) continue; // recognised through the helpful phrasings
            foreach (string phrasing in phrasings)
            {
                if (Pattern(phrasing).Match(text) is not { Success: true } match) continue;
                if (style != ResponseStyle.Helpful) return style;
                if (Group(match, "s", request.Fact.Subject) == request.Fact.Subject && Group(match, "a", request.Fact.Answer) == request.Fact.Answer)
                    return ResponseStyle.Helpful;
                wrong = true;
            }
        }
        return wrong ? ResponseStyle.Wrong : ResponseStyle.Unrecognised;

        static string Group(Match match, string name, string absent) => match.Groups[name].Success ? match.Groups[name].Value : absent;
    }

    /// <summary>A phrasing as a regex: "{s}" and "{a}" match any text (the first occurrence is captured, later ones must repeat it).</summary>
    static Regex Pattern(string phrasing) => Patterns.GetOrAdd(phrasing, p =>
    {
        var seen = new HashSet<string>();
        string pattern = Regex.Replace(Regex.Escape(p), @"\\\{([sa])}|\{([sa])}", m =>
        {
            string name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            return seen.Add(name) ? $"(?<{name}>.+?)" : $"\\k<{name}>";
        });
        return new Regex($"^{pattern}$", RegexOptions.CultureInvariant);
    });

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> Patterns = new();

    /// <summary>The oracle's verdict on two answers to one request; <paramref name="draw"/> is its coin for label noise.</summary>
    public PairwiseChoice Prefer(Request request, string responseA, string responseB, Random draw)
    {
        double a = Quality(request, responseA), b = Quality(request, responseB);
        if (a == b) return PairwiseChoice.Tie;
        bool flip = draw.NextDouble() < noise;
        return (a > b) ^ flip ? PairwiseChoice.A : PairwiseChoice.B;
    }

    /// <summary>Judges blind comparisons of responses to the world's prompts, each with its own seeded coin.</summary>
    public IReadOnlyList<PairwiseChoice> Judge(IReadOnlyList<Comparison> comparisons) => comparisons.Select((c, i) =>
    {
        var request = world.Find(c.Prompt) ?? throw new RlhfException($"comparison {c.Id}: its prompt is not one of the demo world's");
        return Prefer(request, c.ResponseA, c.ResponseB, new Random(Seeds.Derive(seed, i)));
    }).ToList();
}
