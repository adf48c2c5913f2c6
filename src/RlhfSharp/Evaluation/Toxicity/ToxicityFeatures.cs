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
        texts = [.. texts.Select(PlainQuotes)];
        float[][] embeddings = embedder.Embed(texts);
        if (list is null) return embeddings;
        return embeddings.Select((embedding, i) =>
        {
            var match = list.Match(texts[i]);
            return (float[])[.. embedding, match.Any ? 1f : 0f, MathF.Log(1 + match.Terms)];
        }).ToArray();
    }

    /// <summary>
    /// Typographic quotes and apostrophes as ASCII: the training data (tweets, comments) writes "don't" and the word
    /// pieces split "don’t" differently, so the same sentence scored 0.75 with one apostrophe and 0.99 with the other.
    /// </summary>
    public static string PlainQuotes(string text)
    {
        if (text.AsSpan().IndexOfAny("\u2018\u2019\u201A\u201B\u2032\u201C\u201D\u201E\u201F\u2033") < 0) return text;
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = chars[i] switch
            {
                '\u2018' or '\u2019' or '\u201A' or '\u201B' or '\u2032' => '\'',
                '\u201C' or '\u201D' or '\u201E' or '\u201F' or '\u2033' => '"',
                var c => c,
            };
        }
        return new string(chars);
    }
}
