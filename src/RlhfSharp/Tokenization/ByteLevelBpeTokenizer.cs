using System.Text;
using Microsoft.ML.Tokenizers;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Byte-level BPE with a Hugging Face pipeline, encoding as `tokenizers` does: added tokens that are not normalized
/// are cut out of the raw text first, the rest is normalized, normalized added tokens are cut out of that, the
/// remaining text is pre-tokenized, and each piece goes through BPE on its own. The merges and the byte-level
/// mapping and decoding are Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>; added tokens decode as their text.
/// </summary>
internal sealed class ByteLevelBpeTokenizer : ITextTokenizer
{
    readonly BpeTokenizer _bpe;
    readonly BpePipeline _pipeline;
    readonly IReadOnlyDictionary<string, int> _vocabulary;
    readonly AddedTokenSplitter _raw, _normalized;
    readonly Dictionary<int, string> _addedText;

    /// <param name="literalTokens">Tokens matched in text: the added tokens and the special tokens the model's files name.</param>
    internal ByteLevelBpeTokenizer(BpeModelData data, IReadOnlyList<AddedToken> literalTokens, int vocabularySize, SpecialTokens special)
    {
        _pipeline = data.Pipeline;
        _vocabulary = data.Vocabulary;
        _raw = new AddedTokenSplitter(literalTokens.Where(token => !token.Normalized), token => token.Content);
        _normalized = new AddedTokenSplitter(literalTokens.Where(token => token.Normalized), token => _pipeline.Normalizer.Normalize(token.Content));
        // Added tokens stay out of the library: it would take any pre-token equal to one (a single_word token's text
        // inside a word) for that token.
        _addedText = [];
        foreach (var token in literalTokens) _addedText.TryAdd(token.Id, token.Content);
        _bpe = TokenizerFile.Build(data.Source, () => BpeTokenizer.Create(new BpeOptions(data.Vocabulary) { Merges = data.Merges, ByteLevel = true }));
        VocabularySize = vocabularySize;
        Special = special;
    }

    public int VocabularySize { get; }

    public SpecialTokens Special { get; }

    public IReadOnlyList<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var (raw, rawToken) in _raw.Split(text))
        {
            if (rawToken is not null)
            {
                ids.Add(rawToken.Id);
                continue;
            }
            foreach (var (normalized, normalizedToken) in _normalized.Split(_pipeline.Normalizer.Normalize(raw)))
            {
                if (normalizedToken is not null)
                {
                    ids.Add(normalizedToken.Id);
                    continue;
                }
                foreach (string piece in _pipeline.PreTokenizer.Split(normalized)) EncodePiece(piece, ids);
            }
        }
        return ids;
    }

    void EncodePiece(string piece, List<int> ids)
    {
        if (_pipeline.IgnoreMerges && _vocabulary.TryGetValue(ByteLevelBpe.ToSymbols(piece), out int whole)) ids.Add(whole);
        else ids.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
    }

    /// <summary>Added tokens as their text, runs of other ids through the byte-level decoder.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            if (!_addedText.TryGetValue(id, out string? content))
            {
                run.Add(id);
                continue;
            }
            DecodeRun();
            text.Append(content);
        }
        DecodeRun();
        return text.ToString();

        void DecodeRun()
        {
            if (run.Count == 0) return;
            text.Append(_bpe.Decode(run));
            run.Clear();
        }
    }
}
