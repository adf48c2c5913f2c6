using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>GPT-2 style byte-level BPE: its split pattern, its byte symbols, and reading its slow-tokenizer files.</summary>
internal static partial class ByteLevelBpe
{
    // GPT-2's pre-tokenizer (openai/gpt-2 encoder.py; HF ByteLevel with use_regex).
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    internal static partial Regex Gpt2Split();

    /// <summary>GPT-2's reversible byte -> printable character map (printable Latin-1 bytes map to themselves, the rest
    /// to code points from 256 up), so every token is a visible string in vocab.json and tokenizer.json.</summary>
    internal static readonly char[] ByteSymbols = BuildByteSymbols();

    static char[] BuildByteSymbols()
    {
        var symbols = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            symbols[b] = (char)(printable ? b : next++);
        }
        return symbols;
    }

    /// <summary>The text's UTF-8 bytes as byte symbols: how a piece is spelled in the vocabulary.</summary>
    internal static string ToSymbols(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, (chars, source) =>
        {
            for (int i = 0; i < source.Length; i++) chars[i] = ByteSymbols[source[i]];
        });
    }

    /// <summary>The slow-tokenizer layout: vocab.json (token -> id) and merges.txt ("left right" per line), GPT-2's pipeline.</summary>
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
        return new BpeModelData(vocabulary, merges, [], BpePipeline.Gpt2, mergesPath);
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
