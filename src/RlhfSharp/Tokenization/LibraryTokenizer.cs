using Microsoft.ML.Tokenizers;

namespace RlhfSharp.Tokenization;

/// <summary>An <see cref="ITextTokenizer"/> over a Microsoft.ML.Tokenizers tokenizer built without BOS/EOS insertion.</summary>
internal sealed class LibraryTokenizer(Tokenizer inner, int vocabularySize, SpecialTokens special) : ITextTokenizer
{
    public IReadOnlyList<int> Encode(string text) => inner.EncodeToIds(text);

    // SentencePiece leaves control tokens (<s>, </s>) out of the text unless asked; the interface promises them.
    public string Decode(IEnumerable<int> ids) =>
        inner is SentencePieceTokenizer sentencePiece ? sentencePiece.Decode(ids, considerSpecialTokens: true) : inner.Decode(ids);

    public int VocabularySize => vocabularySize;

    public SpecialTokens Special => special;
}
