namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>Scores texts for toxicity on [0, 1] (0 not toxic, 1 toxic), in batches.</summary>
public interface IToxicityScorer
{
    /// <summary>Short name for reports ("minilm-logistic", "perspective", "wordlist:ldnoobw-en" ...).</summary>
    string Name { get; }

    /// <summary>One score per text, in order. Empty or blank text scores exactly 0 (implement through <see cref="ToxicityScoring"/>).</summary>
    IReadOnlyList<double> Score(IReadOnlyList<string> texts);
}
