using System.Text.Json;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Finds BOS/EOS/PAD for a model folder. For each role the first source that names it wins:
/// config.json <c>&lt;role&gt;_token_id</c> (the model's ids, which generation uses), then tokenizer_config.json and
/// special_tokens_map.json <c>&lt;role&gt;_token</c> (a text, or an AddedToken object with "content"; null says there
/// is none, as Qwen2.5's bos_token does), then the tokenizer's own default. A null id in config.json names nothing
/// (configs write null for every unset id). Texts resolve to ids through the vocabulary and added tokens; a text that
/// is not there is an error.
/// </summary>
internal static class SpecialTokenResolver
{
    static readonly string[] TokenFiles = ["tokenizer_config.json", "special_tokens_map.json"];

    internal static SpecialTokens Resolve(string modelDir, IReadOnlyDictionary<string, int> tokenIds, int? defaultBos, int? defaultEos)
    {
        var config = TokenizerFile.ReadJsonIfExists(modelDir, "config.json");
        var tokenFiles = TokenFiles.Select(name => TokenizerFile.ReadJsonIfExists(modelDir, name)).ToArray();

        int? Id(string role, int? fallback)
        {
            if (ConfigId(config, role + "_token_id") is int id) return id;
            foreach (var file in tokenFiles)
                if (TextId(file, role + "_token", tokenIds) is var (named, fromFile) && named) return fromFile;
            return fallback;
        }
        string? TextOf(int? id) => id is null ? null : tokenIds.FirstOrDefault(entry => entry.Value == id).Key;

        int? bos = Id("bos", defaultBos), eos = Id("eos", defaultEos), pad = Id("pad", null);
        return new SpecialTokens(bos, eos, pad, TextOf(bos), TextOf(eos), TextOf(pad));
    }

    // An integer, or a list (recent configs list several EOS ids; the first is the main one). Null and negative ids
    // (some Llama conversions write pad_token_id: -1) mean "none".
    static int? ConfigId((string Path, JsonElement Root)? file, string field)
    {
        if (file is not var (path, root) || TokenizerFile.Field(root, field) is not { } value) return null;
        if (value.ValueKind == JsonValueKind.Array)
        {
            if (value.GetArrayLength() == 0) return null;
            value = value[0];
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int id))
            throw TokenizerFile.Error(path, field, "must be an integer token id or a list of them");
        return id >= 0 ? id : null;
    }

    /// <summary>Whether the file names the token (a text, or null for none), and its id.</summary>
    static (bool Named, int? Id) TextId((string Path, JsonElement Root)? file, string field, IReadOnlyDictionary<string, int> tokenIds)
    {
        if (file is not var (path, root) || root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(field, out var value)) return (false, null);
        if (value.ValueKind == JsonValueKind.Null) return (true, null);
        string text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Object when TokenizerFile.StringField(value, "content") is { } content => content,
            _ => throw TokenizerFile.Error(path, field, "must be a string or an object with \"content\""),
        };
        return tokenIds.TryGetValue(text, out int id)
            ? (true, id)
            : throw TokenizerFile.Error(path, field, $"\"{text}\" is not in the tokenizer's vocabulary or added tokens");
    }
}
