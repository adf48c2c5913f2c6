using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace RlhfSharp.Tokenization;

/// <summary>GPT-2 style byte-level BPE: reading its files and building the library's <see cref="BpeTokenizer"/>.</summary>
internal static partial class ByteLevelBpe
{
    // GPT-2's pre-tokenizer (openai/gpt-2 encoder.py; HF ByteLevel with use_regex). The library's BpeTokenizer has
    // byte-level mapping but no GPT-2 split of its own, so the pattern is given here.
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    internal static partial Regex Gpt2Split();

    /// <summary>The tokenizer; <paramref name="literalTokens"/> are matched in input text before BPE and map to their ids.</summary>
    internal static BpeTokenizer Create(BpeModelData data, IReadOnlyDictionary<string, int> literalTokens) =>
        TokenizerFile.Build(data.Source, () => BpeTokenizer.Create(new BpeOptions(data.Vocabulary)
        {
            Merges = data.Merges,
            ByteLevel = true,
            SpecialTokens = literalTokens,
            PreTokenizer = new RegexPreTokenizer(Gpt2Split(), literalTokens),
        }));

    /// <summary>The slow-tokenizer layout: vocab.json (token -> id) and merges.txt ("left right" per line).</summary>
    internal static BpeModelData ReadVocabAndMerges(string vocabPath, string mergesPath)
    {
        foreach (string path in new[] { vocabPath, mergesPath })
            if (!File.Exists(path))
                throw new RlhfException($"{path}: missing; a GPT-2 style BPE tokenizer needs both vocab.json and merges.txt");

        var vocabulary = ReadVocabulary(vocabPath, TokenizerFile.ReadJson(vocabPath), "vocabulary");
        var merges = new List<string>();
        string[] lines = File.ReadAllLines(mergesPath);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0 || (i == 0 && lines[i].StartsWith("#version", StringComparison.Ordinal))) continue;
            merges.Add(IsMergePair(lines[i]) ? lines[i] : throw TokenizerFile.Error(mergesPath, $"line {i + 1}", "is not a \"left right\" pair"));
        }
        return new BpeModelData(vocabulary, merges, new Dictionary<string, int>(), mergesPath);
    }

    /// <summary>A JSON object of token -> integer id (vocab.json, or tokenizer.json's model.vocab).</summary>
    internal static Dictionary<string, int> ReadVocabulary(string path, JsonElement vocab, string field)
    {
        if (vocab.ValueKind != JsonValueKind.Object) throw TokenizerFile.Error(path, field, "must be an object of token -> id");
        var result = new Dictionary<string, int>();
        foreach (var entry in vocab.EnumerateObject())
            result[entry.Name] = entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt32(out int id) && id >= 0
                ? id
                : throw TokenizerFile.Error(path, $"{field}[\"{entry.Name}\"]", "must be a non-negative integer id");
        return result.Count > 0 ? result : throw TokenizerFile.Error(path, field, "is empty");
    }

    internal static bool IsMergePair(string merge) => merge.Split(' ') is [{ Length: > 0 }, { Length: > 0 }];
}
