namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>The classic baseline: a text is as toxic as the offensive terms it contains.</summary>
public sealed class WordListScorer(WordList list, WordListMode mode = WordListMode.AnyMatch) : IToxicityScorer
{
    public WordListScorer(string path, WordListMode mode = WordListMode.AnyMatch) : this(WordList.Load(path), mode) { }

    public string Name => $"wordlist:{list.Name}";

    public IReadOnlyList<double> Score(IReadOnlyList<string> texts) => ToxicityScoring.Score(texts, ToxicityScoring.Whole, all => all.Select(text =>
    {
        var match = list.Match(text);
        return mode == WordListMode.AnyMatch ? (match.Any ? 1.0 : 0.0) : match.Fraction;
    }).ToList());
}
