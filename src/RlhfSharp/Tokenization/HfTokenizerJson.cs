using System.Text.Json;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Hugging Face tokenizer.json (the `tokenizers` format), read by hand because Microsoft.ML.Tokenizers 2.0.1 has no
/// loader for it. Supported: model BPE with a byte-level pipeline (<see cref="TokenizerPipelineJson"/>: GPT-2, Qwen2.5,
/// Llama 3, SmolLM2 and tiktoken-style files) and its added_tokens, matched in input text as `tokenizers` matches them.
/// </summary>
internal static class HfTokenizerJson
{
    /// <summary>
    /// The BPE model in <paramref name="path"/>. Another kind of tokenizer (WordPiece, Unigram, Llama 2's or Mistral's
    /// Metaspace BPE) is an error, or null when <paramref name="canDefer"/> says the folder holds a file that serves
    /// instead (tokenizer.model).
    /// </summary>
    internal static BpeModelData? Read(string path, bool canDefer)
    {
        JsonElement root = TokenizerFile.ReadJson(path);
        JsonElement model = TokenizerFile.Field(root, "model") is { ValueKind: JsonValueKind.Object } m
            ? m
            : throw TokenizerFile.Error(path, "model", "is missing or not an object");
        BpePipeline pipeline;
        try
        {
            // Files written by early `tokenizers` versions omit model.type; a model with merges is BPE.
            string? type = TokenizerFile.StringField(model, "type") ?? (TokenizerFile.Field(model, "merges") is null ? null : "BPE");
            if (type != "BPE") throw TokenizerFile.Error(path, "model.type", $"\"{type}\" is not supported; only byte-level BPE is");
            pipeline = TokenizerPipelineJson.Read(path, root, model);
        }
        catch (RlhfException) when (canDefer)
        {
            return null;
        }

        var vocabulary = ByteLevelBpe.ReadVocabulary(path,
            TokenizerFile.Field(model, "vocab") ?? throw TokenizerFile.Error(path, "model.vocab", "is missing"), "model.vocab");
        JsonElement merges = TokenizerFile.Field(model, "merges") is { ValueKind: JsonValueKind.Array } array
            ? array
            : throw TokenizerFile.Error(path, "model.merges", "is missing or not an array; a BPE vocabulary needs its merges");
        return new BpeModelData(vocabulary, ReadMerges(path, merges), ReadAddedTokens(path, root), pipeline, $"{path}: model");
    }

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

    // Flags missing from an entry take `tokenizers`' AddedToken defaults: normalized unless special, the rest false.
    static List<AddedToken> ReadAddedTokens(string path, JsonElement root)
    {
        var result = new List<AddedToken>();
        if (TokenizerFile.Field(root, "added_tokens") is not { } added) return result;
        if (added.ValueKind != JsonValueKind.Array) throw TokenizerFile.Error(path, "added_tokens", "must be an array");
        int i = 0;
        foreach (JsonElement token in added.EnumerateArray())
        {
            if (TokenizerFile.StringField(token, "content") is not { Length: > 0 } content
                || TokenizerFile.Field(token, "id") is not { ValueKind: JsonValueKind.Number } idField
                || !idField.TryGetInt32(out int id) || id < 0)
                throw TokenizerFile.Error(path, $"added_tokens[{i}]", "needs a non-negative integer id and a non-empty content");
            bool special = TokenizerPipelineJson.IsTrue(token, "special");
            result.Add(new AddedToken(content, id, special, TokenizerPipelineJson.IsTrue(token, "normalized", missing: !special),
                LStrip: TokenizerPipelineJson.IsTrue(token, "lstrip"), RStrip: TokenizerPipelineJson.IsTrue(token, "rstrip"),
                SingleWord: TokenizerPipelineJson.IsTrue(token, "single_word")));
            i++;
        }
        return result;
    }
}
