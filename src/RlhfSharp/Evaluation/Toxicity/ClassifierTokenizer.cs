using System.Text.Json;
using Microsoft.ML.Tokenizers;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// A classifier's tokenizer with the framing its model was trained on: WordPiece (vocab.txt, BERT and Detoxify's
/// original model) adds [CLS] ... [SEP] and pads with [PAD]; other folders load through
/// <see cref="TokenizerLoader.FromDirectory"/> and add BOS ... EOS where the tokenizer has them (RoBERTa's &lt;s&gt; ... &lt;/s&gt;)
/// and pad with PAD, else EOS, else 0 (padding is masked, so its id only has to be valid).
/// </summary>
internal sealed class ClassifierTokenizer(Func<string, IReadOnlyList<int>> encode, int? start, int? end, int pad)
{
    public int PadId => pad;

    /// <exception cref="CheckpointException">The folder has no tokenizer files.</exception>
    /// <exception cref="RlhfException">A tokenizer file is malformed.</exception>
    public static ClassifierTokenizer Load(string dir)
    {
        string vocabTxt = Path.Combine(dir, "vocab.txt");
        if (File.Exists(vocabTxt))
        {
            var bert = TokenizerFile.Build(vocabTxt, () => BertTokenizer.Create(vocabTxt, new BertOptions { LowerCaseBeforeTokenization = LowerCases(dir) }));
            return new ClassifierTokenizer(text => bert.EncodeToIds(text, addSpecialTokens: false),
                bert.ClassificationTokenId, bert.SeparatorTokenId, bert.PaddingTokenId);
        }
        var tokenizer = TokenizerLoader.FromDirectory(dir)
            ?? throw new CheckpointException($"{dir}: no tokenizer beside the model (vocab.txt, tokenizer.json, vocab.json + merges.txt or tokenizer.model)");
        var special = tokenizer.Special;
        return new ClassifierTokenizer(tokenizer.Encode, special.BosId, special.EosId, special.PadIdOrEos ?? 0);
    }

    /// <summary>
    /// The framed ids of <paramref name="text"/>: one row when its tokens fit <paramref name="maxLength"/> (at least 3,
    /// framing included), else overlapping windows of its tokens that each fit (see <see cref="TextWindows"/>).
    /// </summary>
    public IReadOnlyList<long[]> Windows(string text, int maxLength)
    {
        IReadOnlyList<int> tokens = encode(text);
        int room = maxLength - (start is null ? 0 : 1) - (end is null ? 0 : 1);
        return TextWindows.Spans(tokens.Select(_ => 1).ToList(), room).Select(window =>
        {
            var ids = new List<long>(window.Count + 2);
            if (start is int s) ids.Add(s);
            ids.AddRange(tokens.Skip(window.Start).Take(window.Count).Select(id => (long)id));
            if (end is int e) ids.Add(e);
            return ids.ToArray();
        }).ToList();
    }

    // Hugging Face's BertTokenizer lowercases unless tokenizer_config.json says do_lower_case: false (cased models).
    static bool LowerCases(string dir) =>
        TokenizerFile.ReadJsonIfExists(dir, "tokenizer_config.json") is not var (_, root)
        || TokenizerFile.Field(root, "do_lower_case")?.ValueKind != JsonValueKind.False;
}
