using System.Text.Json;
using RlhfSharp.Models.Checkpoints;

namespace RlhfSharp.Hub;

/// <summary>
/// The files of a hub repository that RlhfSharp loads, chosen from the repository's own file list (never guessed):
/// config.json, the tokenizer and generation files it has, and model.safetensors or, failing that,
/// model.safetensors.index.json and the shards its weight_map names.
/// </summary>
public static class HubModelFiles
{
    public const string ConfigFile = "config.json";

    /// <summary>Taken when the repository has them; the loader reads each if present.</summary>
    public static readonly IReadOnlyList<string> OptionalFiles =
    [
        "generation_config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json",
        "added_tokens.json", "tokenizer.model", "chat_template.jinja",
    ];

    /// <summary>config.json, the optional files present, and the weights file (the single file or the shard index).</summary>
    /// <exception cref="RlhfException">No config.json, or no safetensors weights.</exception>
    public static IReadOnlyList<string> Select(string id, string revision, IReadOnlyCollection<string> repoFiles)
    {
        var present = repoFiles.ToHashSet(StringComparer.Ordinal);
        if (!present.Contains(ConfigFile))
            throw new RlhfException($"{id} (revision '{revision}') has no {ConfigFile}: it is not a transformers model");
        string weights = present.Contains(ModelCheckpoint.SingleFileName) ? ModelCheckpoint.SingleFileName
            : present.Contains(ModelCheckpoint.IndexFileName) ? ModelCheckpoint.IndexFileName
            : throw new RlhfException($"{id} (revision '{revision}') has no {ModelCheckpoint.SingleFileName} or {ModelCheckpoint.IndexFileName}" +
                (repoFiles.Any(f => f.EndsWith(".bin", StringComparison.Ordinal) || f.EndsWith(".pth", StringComparison.Ordinal))
                    ? ": only pickled PyTorch weights, which RlhfSharp does not read (safetensors only)"
                    : ": RlhfSharp reads safetensors weights only"));
        return [ConfigFile, .. OptionalFiles.Where(present.Contains), weights];
    }

    /// <summary>The shard files a downloaded model.safetensors.index.json names, each checked to be a file of the repository.</summary>
    /// <exception cref="RlhfException">The index is malformed, or names a shard that is not a plain file name of the repository.</exception>
    public static IReadOnlyList<string> Shards(string id, string indexPath, IReadOnlyCollection<string> repoFiles)
    {
        List<string> shards;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(indexPath));
            shards = json.RootElement.GetProperty("weight_map").EnumerateObject().Select(entry => entry.Value.GetString()!).Distinct(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new RlhfException($"{id}: {ModelCheckpoint.IndexFileName} has no readable weight_map ({e.Message})", e);
        }
        foreach (string shard in shards)
            if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || !repoFiles.Contains(shard))
                throw new RlhfException($"{id}: {ModelCheckpoint.IndexFileName} names shard '{shard}', which is not a file of the repository");
        return shards;
    }
}
