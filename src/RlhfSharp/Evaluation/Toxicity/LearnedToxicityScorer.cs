namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Scores texts with a trained <see cref="ToxicityHead"/> over MiniLM embeddings (and word-list features
/// when the head was trained with them). Disposing the scorer disposes the embedder.
/// </summary>
public sealed class LearnedToxicityScorer : IToxicityScorer, IDisposable
{
    readonly ToxicityHead _head;
    readonly MiniLmEmbedder _embedder;
    readonly WordList? _wordList;

    public LearnedToxicityScorer(ToxicityHead head, MiniLmEmbedder embedder, WordList? wordList = null)
    {
        if (head.WordList is not null && (wordList is null || wordList.Name != head.WordList || (head.WordListSha256 is { } sha && sha != wordList.Sha256)))
            throw new RlhfException($"toxicity head was trained with word list '{head.WordList}'; give that list (got {wordList?.Name ?? "none"})");
        _head = head;
        _embedder = embedder;
        _wordList = head.WordList is null ? null : wordList;
        if (ToxicityFeatures.Count(_wordList) != head.InputSize)
            throw new RlhfException($"toxicity head expects {head.InputSize} features, not {ToxicityFeatures.Count(_wordList)}");
    }

    public string Name => $"minilm-{_head.Kind}";

    /// <summary>Blank texts score 0; a text over MiniLM's 256 word pieces scores the maximum of its windows (<see cref="MiniLmEmbedder.Windows"/>).</summary>
    public IReadOnlyList<double> Score(IReadOnlyList<string> texts) =>
        ToxicityScoring.Score(texts, _embedder.Windows, windows => ToxicityFeatures.Build(windows, _embedder, _wordList).Select(_head.Score).ToList());

    public void Dispose() => _embedder.Dispose();
}
