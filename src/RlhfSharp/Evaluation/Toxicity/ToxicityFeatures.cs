namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// The head's input: the MiniLM embedding, then, with a word list, an any-match flag and log(1 + terms
/// found). The list adds what the embedding blurs: a single slur in an otherwise bland sentence.
/// </summary>
internal static class ToxicityFeatures
{
    public const string Embedding = "minilm-l6-v2";
    public const string WordListAny = "wordlist-any";
    public const string WordListLogTerms = "wordlist-log1p-terms";

    public static string[] Describe(WordList? list) => list is null ? [Embedding] : [Embedding, WordListAny, WordListLogTerms];

    public static int Count(WordList? list) => MiniLmEmbedder.Dimensions + (list is null ? 0 : 2);

    public static float[][] Build(IReadOnlyList<string> texts, MiniLmEmbedder embedder, WordList? list)
    {
        float[][] embeddings = embedder.Embed(texts);
        if (list is null) return embeddings;
        return embeddings.Select((embedding, i) =>
        {
            var match = list.Match(texts[i]);
            return (float[])[.. embedding, match.Any ? 1f : 0f, MathF.Log(1 + match.Terms)];
        }).ToArray();
    }
}
