using System.Text.Json;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Hugging Face tokenizer.json (the `tokenizers` format), read by hand because Microsoft.ML.Tokenizers 2.0.1 has no
/// loader for it. Only the GPT-2 pipeline is supported: model BPE, ByteLevel pre-tokenizer (GPT-2 regex, no prefix
/// space) and decoder, no normalizer. Every entry of added_tokens is matched literally in input text.
/// </summary>
internal static class HfTokenizerJson
{
    /// <summary>
    /// The BPE model in <paramref name="path"/>. Another kind of tokenizer (WordPiece, Unigram, Llama's Metaspace BPE)
    /// is an error, or null when <paramref name="canDefer"/> says the folder holds a file that serves instead (tokenizer.model).
    /// </summary>
    internal static BpeModelData? Read(string path, bool canDefer)
    {
        JsonElement root = TokenizerFile.ReadJson(path);
        JsonElement model = TokenizerFile.Field(root, "model") is { ValueKind: JsonValueKind.Object } m
            ? m
            : throw TokenizerFile.Error(path, "model", "is missing or not an object");
        if (Unsupported(root, model) is var (field, problem))
            return canDefer ? null : throw TokenizerFile.Error(path, field, problem);

        var vocabulary = ByteLevelBpe.ReadVocabulary(path,
            TokenizerFile.Field(model, "vocab") ?? throw TokenizerFile.Error(path, "model.vocab", "is missing"), "model.vocab");
        JsonElement merges = TokenizerFile.Field(model, "merges") is { ValueKind: JsonValueKind.Array } array
            ? array
            : throw TokenizerFile.Error(path, "model.merges", "is missing or not an array; a BPE vocabulary needs its merges");
        return new BpeModelData(vocabulary, ReadMerges(path, merges), ReadAddedTokens(path, root), $"{path}: model");
    }

    /// <summary>Why the file is not GPT-2 style byte-level BPE, or null when it is.</summary>
    static (string Field, string Problem)? Unsupported(JsonElement root, JsonElement model)
    {
        // Files written by early `tokenizers` versions omit model.type; a model with merges is BPE.
        string? type = TokenizerFile.StringField(model, "type") ?? (TokenizerFile.Field(model, "merges") is null ? null : "BPE");
        if (type != "BPE")
            return ("model.type", $"\"{type}\" is not supported; only byte-level BPE (GPT-2 style) is");
        if (TokenizerFile.Field(root, "normalizer") is { } normalizer)
            return ("normalizer", $"\"{TypeOf(normalizer)}\" is not supported; byte-level BPE here takes none");
        if (TokenizerFile.Field(root, "pre_tokenizer") is not { } pre || TypeOf(pre) != "ByteLevel")
            return ("pre_tokenizer", "must be ByteLevel (GPT-2 style)");
        if (IsTrue(pre, "add_prefix_space") || !IsTrue(pre, "use_regex", missing: true))
            return ("pre_tokenizer", "must use the GPT-2 regex (use_regex) without add_prefix_space");
        if (TokenizerFile.Field(root, "decoder") is { } decoder && TypeOf(decoder) != "ByteLevel")
            return ("decoder", $"\"{TypeOf(decoder)}\" is not supported; byte-level BPE decodes with ByteLevel");
        return null;
    }

    static string? TypeOf(JsonElement component) => TokenizerFile.StringField(component, "type");

    static bool IsTrue(JsonElement obj, string name, bool missing = false) =>
        TokenizerFile.Field(obj, name) is { } value ? value.ValueKind == JsonValueKind.True : missing;

    // Merges come as "left right" strings, or as ["left", "right"] pairs in files from tokenizers >= 0.20.
    static List<string> ReadMerges(string path, JsonElement merges)
    {
        var result = new List<string>(merges.GetArrayLength());
        int i = 0;
        foreach (JsonElement merge in merges.EnumerateArray())
        {
            string? pair = merge.ValueKind switch
            {
                JsonValueKind.String => merge.GetString(),
                JsonValueKind.Array when merge.GetArrayLength() == 2 && merge.EnumerateArray().All(p => p.ValueKind == JsonValueKind.String)
                    => $"{merge[0].GetString()} {merge[1].GetString()}",
                _ => null,
            };
            result.Add(pair is not null && ByteLevelBpe.IsMergePair(pair)
                ? pair
                : throw TokenizerFile.Error(path, $"model.merges[{i}]", "must be two tokens without spaces, as \"left right\" or [\"left\", \"right\"]"));
            i++;
        }
        return result;
    }

    static Dictionary<string, int> ReadAddedTokens(string path, JsonElement root)
    {
        var result = new Dictionary<string, int>();
        if (TokenizerFile.Field(root, "added_tokens") is not { } added) return result;
        if (added.ValueKind != JsonValueKind.Array) throw TokenizerFile.Error(path, "added_tokens", "must be an array");
        int i = 0;
        foreach (JsonElement token in added.EnumerateArray())
        {
            if (TokenizerFile.StringField(token, "content") is not { Length: > 0 } content
                || TokenizerFile.Field(token, "id") is not { ValueKind: JsonValueKind.Number } idField
                || !idField.TryGetInt32(out int id) || id < 0)
                throw TokenizerFile.Error(path, $"added_tokens[{i}]", "needs a non-negative integer id and a non-empty content");
            result[content] = id;
            i++;
        }
        return result;
    }
}
