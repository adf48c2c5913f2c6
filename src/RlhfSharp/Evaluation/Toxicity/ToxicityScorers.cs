namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>Scorers by name, as the command line gives them.</summary>
public static class ToxicityScorers
{
    /// <summary>
    /// "default" (MiniLM embeddings + the shipped head, offline), "perspective" (the Perspective API, key in
    /// PERSPECTIVE_API_KEY), "onnx:PATH[,label=N][,activation=sigmoid|softmax]" (a user's classifier), or
    /// "wordlist:PATH" (any-match on a list of terms).
    /// </summary>
    public static IToxicityScorer Create(string spec) => spec switch
    {
        "default" => DefaultToxicityScorer.Create(),
        "perspective" => new PerspectiveScorer(),
        _ when spec.StartsWith("onnx:", StringComparison.Ordinal) => new OnnxClassifierScorer(OnnxClassifierSpec.Parse(spec)),
        _ when spec.StartsWith("wordlist:", StringComparison.Ordinal) => new WordListScorer(WordList.Load(spec["wordlist:".Length..])),
        _ => throw new RlhfException($"--scorer: unknown scorer '{spec}' (default, perspective, onnx:PATH or wordlist:PATH)"),
    };
}
