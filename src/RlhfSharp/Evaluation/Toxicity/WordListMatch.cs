namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>What a word list found in one text: its word count, the terms matched and the words they cover.</summary>
public readonly record struct WordListMatch(int Words, int Terms, int CoveredWords)
{
    public bool Any => Terms > 0;
    public double Fraction => Words == 0 ? 0 : (double)CoveredWords / Words;
}
