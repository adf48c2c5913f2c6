namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// The toxicity scorer RlhfSharp ships: a head trained on Davidson + Surge over MiniLM embeddings and the
/// LDNOOBW word list, both embedded in this assembly (see DefaultHead/provenance.md), so it works offline.
/// </summary>
public static class DefaultToxicityScorer
{
    const string Prefix = "RlhfSharp.Evaluation.Toxicity.DefaultHead.";

    public static ToxicityHead Head() => ToxicityHead.Read(Resource(ToxicityHead.FileName), $"embedded {ToxicityHead.FileName}");

    /// <summary>LDNOOBW's English list (CC-BY-4.0), the word list the default head was trained with.</summary>
    public static WordList WordList() => Toxicity.WordList.Read("ldnoobw-en", Resource("ldnoobw-en.txt"));

    public static LearnedToxicityScorer Create() => new(Head(), new MiniLmEmbedder(), WordList());

    static Stream Resource(string name) =>
        typeof(DefaultToxicityScorer).Assembly.GetManifestResourceStream(Prefix + name)
        ?? throw new InvalidOperationException($"resource {Prefix + name} missing from the build");
}
