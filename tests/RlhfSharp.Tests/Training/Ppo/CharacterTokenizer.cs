using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>A 30-token character tokenizer ("a".."z", space, ".", "?", end-of-sequence) for tiny policies.</summary>
public sealed class CharacterTokenizer : ITextTokenizer
{
    const string Alphabet = "abcdefghijklmnopqrstuvwxyz .?";
    public const int Eos = 29;

    public IReadOnlyList<int> Encode(string text) => text.Select(c => Alphabet.IndexOf(c)).Where(i => i >= 0).ToList();

    public string Decode(IEnumerable<int> ids) => string.Concat(ids.Where(i => i < Alphabet.Length).Select(i => Alphabet[i]));

    public int VocabularySize => 30;

    public SpecialTokens Special { get; } = new(null, Eos, null, null, "</s>", null);
}
