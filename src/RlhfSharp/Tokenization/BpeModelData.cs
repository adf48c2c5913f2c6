namespace RlhfSharp.Tokenization;

/// <summary>
/// A byte-level BPE model as read from vocab.json + merges.txt or tokenizer.json, before the library builds it.
/// <paramref name="Source"/> names the file (and field) for error messages.
/// </summary>
internal sealed record BpeModelData(
    IReadOnlyDictionary<string, int> Vocabulary,
    IReadOnlyList<string> Merges,
    IReadOnlyList<AddedToken> AddedTokens,
    BpePipeline Pipeline,
    string Source);

/// <summary>
/// What happens to text around the BPE merges: normalization, pre-tokenization, and tokenizers' ignore_merges (a piece
/// that is itself in the vocabulary is that one token, whatever the merges would make of it; Llama 3 sets it).
/// </summary>
internal sealed record BpePipeline(TextNormalizer Normalizer, PreTokenizerPipeline PreTokenizer, bool IgnoreMerges)
{
    internal static readonly BpePipeline Gpt2 = new(TextNormalizer.None, PreTokenizerPipeline.Gpt2, IgnoreMerges: false);
}
