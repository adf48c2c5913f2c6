namespace RlhfSharp.Evaluation.Toxicity;

public enum WordListMode
{
    /// <summary>1 when any term occurs in the text, else 0.</summary>
    AnyMatch,

    /// <summary>Words covered by matched terms over all words in the text.</summary>
    Fraction,
}
