using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>tokenizer.json documents in the Hugging Face `tokenizers` layout, for tests.</summary>
public static class TokenizerJsonFiles
{
    /// <summary>GPT-2's tokenizer.json rebuilt from the shared vocab.json and merges.txt.</summary>
    public static JsonObject Gpt2(bool mergesAsPairs)
    {
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(TestPaths.Shared("gpt2-tokenizer", "vocab.json")))!;
        var merges = File.ReadAllLines(TestPaths.Shared("gpt2-tokenizer", "merges.txt")).Skip(1).Where(line => line.Length > 0)
            .Select(line => mergesAsPairs ? (JsonNode)new JsonArray(line.Split(' ').Select(part => (JsonNode?)part).ToArray()) : line);
        return ByteLevel(vocab, merges, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 });
    }

    /// <summary>A byte-level BPE that knows "hi" and " hi" ("Ġhi"), plus &lt;s&gt;, &lt;/s&gt;, &lt;pad&gt; in the vocabulary.</summary>
    public static JsonObject Tiny(IReadOnlyDictionary<string, int>? addedTokens = null) => ByteLevel(TinyVocabulary, ["h i", "Ġ hi"], addedTokens ?? new Dictionary<string, int>());

    public static readonly IReadOnlyDictionary<string, int> TinyVocabulary = new Dictionary<string, int>
    {
        ["h"] = 0, ["i"] = 1, ["hi"] = 2, ["Ġ"] = 3, ["Ġhi"] = 4, ["<s>"] = 5, ["</s>"] = 6, ["<pad>"] = 7,
    };

    static JsonObject ByteLevel(IReadOnlyDictionary<string, int> vocab, IEnumerable<JsonNode> merges, IReadOnlyDictionary<string, int> addedTokens)
    {
        JsonNode ByteLevelComponent() => new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var vocabObject = new JsonObject();
        foreach (var (token, id) in vocab) vocabObject[token] = id;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(addedTokens.Select(entry => (JsonNode?)new JsonObject
            {
                ["id"] = entry.Value, ["content"] = entry.Key, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = true, ["special"] = true,
            }).ToArray()),
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
