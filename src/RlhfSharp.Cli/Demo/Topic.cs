namespace RlhfSharp.Cli.Demo;

/// <summary>
/// A topic of the demo world: its facts, the phrasings of a request about one fact, and the phrasings of each style of
/// answer. Phrasings hold "{s}" for the fact's subject and "{a}" for an answer.
/// </summary>
internal sealed record Topic(
    string Name,
    RequestKind Kind,
    IReadOnlyList<Fact> Facts,
    IReadOnlyList<string> Templates,
    IReadOnlyDictionary<ResponseStyle, IReadOnlyList<string>> Answers)
{
    /// <summary>The styles this topic's answers come in.</summary>
    public IEnumerable<ResponseStyle> Styles => Answers.Keys;

    public static string Fill(string phrasing, string subject, string answer) => phrasing.Replace("{s}", subject).Replace("{a}", answer);

    /// <summary>
    /// An answer of <paramref name="style"/> to <paramref name="request"/>: the phrasing <paramref name="variant"/> (any
    /// integer; taken modulo the phrasings), for <see cref="ResponseStyle.Wrong"/> with another fact's answer picked by
    /// <paramref name="other"/>. Answers start with a space, as HH-RLHF responses do.
    /// </summary>
    public string Answer(Request request, ResponseStyle style, int variant, int other = 0)
    {
        var phrasings = Answers[style];
        string phrasing = phrasings[Math.Abs(variant % phrasings.Count)];
        string answer = request.Fact.Answer;
        if (style == ResponseStyle.Wrong)
        {
            var wrong = WrongAnswers(request.FactIndex);
            answer = wrong[Math.Abs(other % wrong.Count)];
        }
        return " " + Fill(phrasing, request.Fact.Subject, answer);
    }

    /// <summary>The distinct answers of other facts that differ from fact <paramref name="factIndex"/>'s.</summary>
    public IReadOnlyList<string> WrongAnswers(int factIndex) =>
        Facts.Select(f => f.Answer).Distinct().Where(a => a != Facts[factIndex].Answer).Order(StringComparer.Ordinal).ToList();
}
