namespace RlhfSharp.Tokenization;

/// <summary>
/// A byte-level BPE model as read from vocab.json + merges.txt or tokenizer.json, before the library builds it.
/// <paramref name="Source"/> names the file (and field) for error messages.
/// </summary>
internal sealed record BpeModelData(
    IReadOnlyDictionary<string, int> Vocabulary,
    IReadOnlyList<string> Merges,
    IReadOnlyDictionary<string, int> AddedTokens,
    string Source);
