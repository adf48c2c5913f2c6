using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>tokenizer.json documents in the Hugging Face `tokenizers` layout, for tests.</summary>
public static class TokenizerJsonFiles
{
    /// <summary>GPT-2's split pattern (openai/gpt-2 encoder.py; HF's ByteLevel use_regex).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2/Qwen2.5's Split pattern: case-insensitive contractions, one digit a piece.</summary>
    public const string QwenPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Llama 3's Split pattern (tiktoken's cl100k_base): digits in groups of up to three.</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>tiktoken's o200k_base pattern (GPT-4o; the tiktoken-style tokenizers of Phi-4-mini and others): cased letter runs.</summary>
    public const string O200kPattern =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        + @"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        + @"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>GPT-2's tokenizer.json rebuilt from the shared vocab.json and merges.txt.</summary>
    public static JsonObject Gpt2(bool mergesAsPairs)
    {
        var merges = File.ReadAllLines(TestPaths.Shared("gpt2-tokenizer", "merges.txt")).Skip(1).Where(line => line.Length > 0)
            .Select(line => mergesAsPairs ? (JsonNode)new JsonArray(line.Split(' ').Select(part => (JsonNode?)part).ToArray()) : line);
        return ByteLevel(Gpt2Vocabulary(), merges, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 });
    }

    /// <summary>GPT-2's vocabulary and merges under another normalizer and pre-tokenizer (the model part is what matters).</summary>
    public static JsonObject Gpt2With(JsonNode? normalizer, JsonNode preTokenizer)
    {
        var json = Gpt2(mergesAsPairs: false);
        json["normalizer"] = normalizer;
        json["pre_tokenizer"] = preTokenizer;
        return json;
    }

    public static Dictionary<string, int> Gpt2Vocabulary() =>
        JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(TestPaths.Shared("gpt2-tokenizer", "vocab.json")))!;

    /// <summary>A byte-level BPE that knows "hi" and " hi" ("Ġhi"), plus &lt;s&gt;, &lt;/s&gt;, &lt;pad&gt; in the vocabulary.</summary>
    public static JsonObject Tiny(IReadOnlyDictionary<string, int>? addedTokens = null) => ByteLevel(TinyVocabulary, ["h i", "Ġ hi"], addedTokens ?? new Dictionary<string, int>());

    public static readonly IReadOnlyDictionary<string, int> TinyVocabulary = new Dictionary<string, int>
    {
        ["h"] = 0, ["i"] = 1, ["hi"] = 2, ["Ġ"] = 3, ["Ġhi"] = 4, ["<s>"] = 5, ["</s>"] = 6, ["<pad>"] = 7,
    };

    public static JsonObject ByteLevelComponent(bool addPrefixSpace = false, bool useRegex = true) =>
        new() { ["type"] = "ByteLevel", ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = false, ["use_regex"] = useRegex };

    public static JsonObject Split(string pattern, string behavior = "Isolated", bool invert = false, bool isRegex = true) => new()
    {
        ["type"] = "Split", ["pattern"] = new JsonObject { [isRegex ? "Regex" : "String"] = pattern }, ["behavior"] = behavior, ["invert"] = invert,
    };

    public static JsonObject Digits(bool individual) => new() { ["type"] = "Digits", ["individual_digits"] = individual };

    public static JsonObject PreTokenizerSequence(params JsonNode[] steps) => new() { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(steps) };

    /// <summary>Split by <paramref name="pattern"/>, then ByteLevel without its own regex: Qwen2.5's and Llama 3's layout.</summary>
    public static JsonObject SplitThenByteLevel(string pattern) => PreTokenizerSequence(Split(pattern), ByteLevelComponent(useRegex: false));

    public static JsonObject Normalizer(string type) => new() { ["type"] = type };

    public static JsonObject AddedToken(int id, string content, bool special = true, bool? normalized = null,
        bool lstrip = false, bool rstrip = false, bool singleWord = false) => new()
        {
            ["id"] = id, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip, ["rstrip"] = rstrip,
            ["normalized"] = normalized ?? !special, ["special"] = special,
        };

    static JsonObject ByteLevel(IReadOnlyDictionary<string, int> vocab, IEnumerable<JsonNode> merges, IReadOnlyDictionary<string, int> addedTokens)
    {
        var vocabObject = new JsonObject();
        foreach (var (token, id) in vocab) vocabObject[token] = id;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(addedTokens.Select(entry => (JsonNode?)AddedToken(entry.Value, entry.Key, normalized: true)).ToArray()),
            ["normalizer"] = null,
            ["pre_tokenizer"] = ByteLevelComponent(),
            ["post_processor"] = ByteLevelComponent(),
            ["decoder"] = ByteLevelComponent(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "", ["fuse_unk"] = false, ["byte_fallback"] = false,
                ["vocab"] = vocabObject,
                ["merges"] = new JsonArray(merges.ToArray()),
            },
        };
    }
}
