using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.IO;

namespace RlhfSharp.Tokenization;

/// <summary>A byte-level BPE fitted to a corpus: token -> id (bytes first, then merged tokens, then special tokens) and the merges in order.</summary>
public sealed record FittedBpe(IReadOnlyDictionary<string, int> Vocabulary, IReadOnlyList<string> Merges, IReadOnlyList<string> SpecialTokens);

/// <summary>
/// Fits a GPT-2 style byte-level BPE to a corpus and saves it as a Hugging Face tokenizer.json that both this
/// library and `tokenizers` load. Written here because Microsoft.ML.Tokenizers 2.0 has no trainer. The algorithm is
/// Sennrich et al.'s: split text with GPT-2's pre-tokenizer, start from the 256 byte symbols, and repeatedly merge the
/// most frequent adjacent pair (ties to the ordinally smallest pair, so a fit is deterministic).
/// </summary>
public static class BpeTrainer
{
    public const string EndOfText = "<|endoftext|>";

    /// <param name="vocabularySize">Total size including the 256 byte symbols and the special tokens; fitting stops
    /// earlier when no pair occurs twice.</param>
    public static FittedBpe Fit(IEnumerable<string> texts, int vocabularySize, IReadOnlyList<string>? specialTokens = null)
    {
        specialTokens ??= [EndOfText];
        int mergeBudget = vocabularySize - 256 - specialTokens.Count;
        if (mergeBudget < 0) throw new RlhfException($"a vocabulary of {vocabularySize} cannot hold the 256 byte symbols and {specialTokens.Count} special tokens");

        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string text in texts)
            foreach (string piece in PreTokenizerPipeline.Gpt2.Split(text))
            {
                string word = ByteLevelBpe.ToSymbols(piece);
                wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
            }

        // Each distinct pre-token as its current symbols, with how often it occurs.
        var words = wordCounts.OrderBy(w => w.Key, StringComparer.Ordinal)
            .Select(w => (Symbols: w.Key.Select(c => c.ToString()).ToList(), Count: w.Value)).ToList();
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++) vocabulary[ByteLevelBpe.ByteSymbols[b].ToString()] = b;
        var merges = new List<string>();
        while (merges.Count < mergeBudget && MostFrequentPair(words) is var (left, right))
        {
            string merged = left + right;
            merges.Add($"{left} {right}");
            vocabulary.TryAdd(merged, vocabulary.Count);
            foreach (var (symbols, _) in words) MergeInPlace(symbols, left, right, merged);
        }
        foreach (string special in specialTokens) vocabulary.TryAdd(special, vocabulary.Count);
        return new FittedBpe(vocabulary, merges, specialTokens);
    }

    static (string Left, string Right)? MostFrequentPair(List<(List<string> Symbols, int Count)> words)
    {
        var counts = new Dictionary<(string, string), int>();
        foreach (var (symbols, count) in words)
            for (int i = 0; i + 1 < symbols.Count; i++)
                counts[(symbols[i], symbols[i + 1])] = counts.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
        (string, string)? best = null;
        int bestCount = 1; // a pair seen once saves nothing
        foreach (var (pair, count) in counts)
            if (count > bestCount || (count == bestCount && best is { } b && Compare(pair, b) < 0))
                (best, bestCount) = (pair, count);
        return best;

        static int Compare((string, string) x, (string, string) y)
        {
            int first = string.CompareOrdinal(x.Item1, y.Item1);
            return first != 0 ? first : string.CompareOrdinal(x.Item2, y.Item2);
        }
    }

    static void MergeInPlace(List<string> symbols, string left, string right, string merged)
    {
        for (int i = 0; i + 1 < symbols.Count; i++)
            if (symbols[i] == left && symbols[i + 1] == right)
            {
                symbols[i] = merged;
                symbols.RemoveAt(i + 1);
            }
    }

    /// <summary>
    /// Writes tokenizer.json (BPE model, ByteLevel pre-tokenizer and decoder, the special tokens as added tokens) and a
    /// tokenizer_config.json naming "&lt;|endoftext|&gt;" as BOS, EOS and UNK as GPT-2's does, each atomically.
    /// </summary>
    public static void Save(FittedBpe bpe, string directory, int modelMaxLength)
    {
        Directory.CreateDirectory(directory);
        var byteLevel = new Func<JsonObject>(() => new JsonObject
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true,
        });
        var vocab = new JsonObject();
        foreach (var (token, id) in bpe.Vocabulary.OrderBy(v => v.Value)) vocab[token] = id;
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(bpe.SpecialTokens.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = bpe.Vocabulary[t], ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            }).ToArray()),
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel(),
            ["post_processor"] = byteLevel(),
            ["decoder"] = byteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["vocab"] = vocab,
                ["merges"] = new JsonArray(bpe.Merges.Select(m => (JsonNode)JsonValue.Create(m)).ToArray()),
            },
        };
        var indented = new JsonSerializerOptions { WriteIndented = true };
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer.json"), json.ToJsonString(indented));
        string special = bpe.SpecialTokens.Contains(EndOfText) ? EndOfText : bpe.SpecialTokens.FirstOrDefault() ?? "";
        var config = new JsonObject
        {
            ["tokenizer_class"] = "GPT2Tokenizer", ["model_max_length"] = modelMaxLength, ["add_prefix_space"] = false,
            ["bos_token"] = special, ["eos_token"] = special, ["unk_token"] = special,
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(indented));
    }
}
