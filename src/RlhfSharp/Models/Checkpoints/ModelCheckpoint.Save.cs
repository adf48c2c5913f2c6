using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using TorchSharp;

using RlhfSharp.IO;

namespace RlhfSharp.Models.Checkpoints;

public sealed partial class ModelCheckpoint
{
    /// <summary>5 GB, the default shard size of transformers' save_pretrained.</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    static readonly Dictionary<string, string> PtMetadata = new() { ["format"] = "pt" };

    /// <summary>
    /// Writes the tensors as model.safetensors when they fit in <paramref name="maxShardBytes"/>, else as
    /// model-0000i-of-0000N.safetensors shards plus model.safetensors.index.json. Files of the other layout
    /// (or of an older shard count) are removed only once the new files are in place.
    /// </summary>
    public static void Save(string directory, IReadOnlyList<KeyValuePair<string, torch.Tensor>> tensors,
        long maxShardBytes = DefaultMaxShardBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string name, _) in tensors)
            if (!names.Add(name)) throw new ArgumentException($"tensor name {SafetensorsFile.Quote(name)} is used twice", nameof(tensors));
        Directory.CreateDirectory(directory);

        List<List<KeyValuePair<string, torch.Tensor>>> shards = PlanShards(tensors, maxShardBytes);
        if (shards.Count <= 1)
        {
            SafetensorsFile.Save(Path.Combine(directory, SingleFileName), tensors, PtMetadata);
            RemoveStaleFiles(directory, [SingleFileName]);
            return;
        }
        var written = new List<string>();
        var weightMap = new List<KeyValuePair<string, string>>();
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsFile.Save(Path.Combine(directory, file), shards[i], PtMetadata);
            written.Add(file);
            weightMap.AddRange(shards[i].Select(pair => KeyValuePair.Create(pair.Key, file)));
        }
        WriteIndex(Path.Combine(directory, IndexFileName), tensors.Sum(pair => SafetensorsFile.StoredBytes(pair.Value)), weightMap);
        RemoveStaleFiles(directory, [.. written, IndexFileName]);
    }

    /// <summary>Greedy in order, as transformers does: a new shard starts when the next tensor would overflow it.</summary>
    static List<List<KeyValuePair<string, torch.Tensor>>> PlanShards(IReadOnlyList<KeyValuePair<string, torch.Tensor>> tensors, long maxShardBytes)
    {
        var shards = new List<List<KeyValuePair<string, torch.Tensor>>>();
        long shardBytes = 0;
        foreach (KeyValuePair<string, torch.Tensor> pair in tensors)
        {
            long bytes = SafetensorsFile.StoredBytes(pair.Value);
            if (shards.Count == 0 || (shardBytes > 0 && shardBytes + bytes > maxShardBytes))
            {
                shards.Add([]);
                shardBytes = 0;
            }
            shards[^1].Add(pair);
            shardBytes += bytes;
        }
        return shards;
    }

    static void WriteIndex(string path, long totalSize, List<KeyValuePair<string, string>> weightMap)
    {
        AtomicFile.Write(path, stream =>
        {
            var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
            using var json = new Utf8JsonWriter(stream, options);
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach ((string name, string file) in weightMap) json.WriteString(name, file);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    static void RemoveStaleFiles(string directory, IReadOnlyCollection<string> keep)
    {
        foreach (string path in Directory.EnumerateFiles(directory))
        {
            string name = Path.GetFileName(path);
            bool ours = name is SingleFileName or IndexFileName || ShardName().IsMatch(name);
            if (ours && !keep.Contains(name)) File.Delete(path);
        }
    }

    [GeneratedRegex(@"^model-\d{5}-of-\d{5}\.safetensors$")]
    private static partial Regex ShardName();
}
