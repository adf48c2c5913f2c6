using System.Collections.ObjectModel;
using System.Text.Json;
using TorchSharp;

namespace RlhfSharp.Models.Checkpoints;

/// <summary>
/// The safetensors weights of a Hugging Face model directory: a single model.safetensors or shards listed
/// by model.safetensors.index.json, indexed by tensor name over all files.
/// </summary>
public sealed partial class ModelCheckpoint
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    ModelCheckpoint(string directoryPath, IReadOnlyDictionary<string, CheckpointTensor> tensors)
    {
        DirectoryPath = directoryPath;
        Tensors = tensors;
    }

    public string DirectoryPath { get; }

    /// <summary>Every tensor of the checkpoint, in file order (shard by shard).</summary>
    internal IReadOnlyDictionary<string, CheckpointTensor> Tensors { get; }

    /// <summary>Reads the headers of model.safetensors (preferred, as transformers does) or of every indexed shard.</summary>
    public static ModelCheckpoint Open(string directory)
    {
        if (!Directory.Exists(directory)) throw new CheckpointException($"{directory}: model directory does not exist");
        string single = Path.Combine(directory, SingleFileName);
        if (File.Exists(single))
        {
            var tensors = new OrderedDictionary<string, CheckpointTensor>(StringComparer.Ordinal);
            foreach (SafetensorsEntry entry in SafetensorsFile.ReadHeader(single).Tensors.Values)
                tensors.Add(entry.Name, new CheckpointTensor(single, entry));
            return new ModelCheckpoint(directory, new ReadOnlyDictionary<string, CheckpointTensor>(tensors));
        }
        string index = Path.Combine(directory, IndexFileName);
        if (File.Exists(index)) return new ModelCheckpoint(directory, OpenShards(directory, index));
        throw new CheckpointException(NoSafetensorsMessage(directory));
    }

    public torch.Tensor Load(string name, torch.ScalarType? convertTo = null)
    {
        CheckpointTensor tensor = Find(name);
        return SafetensorsFile.LoadTensor(tensor.FilePath, tensor.Entry, convertTo);
    }

    public void LoadInto(string name, torch.Tensor destination)
    {
        CheckpointTensor tensor = Find(name);
        SafetensorsFile.LoadInto(tensor.FilePath, tensor.Entry, destination);
    }

    CheckpointTensor Find(string name) => Tensors.TryGetValue(name, out CheckpointTensor? tensor)
        ? tensor
        : throw new CheckpointException($"{DirectoryPath}: tensor {SafetensorsFile.Quote(name)} is not in the checkpoint");

    static ReadOnlyDictionary<string, CheckpointTensor> OpenShards(string directory, string indexPath)
    {
        Dictionary<string, string> weightMap = ReadWeightMap(indexPath);
        var tensors = new OrderedDictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var shard in weightMap.GroupBy(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal))
        {
            string listedFor = $"listed for tensor {SafetensorsFile.Quote(shard.First())}";
            // Shard names come from the file; a path would escape the model directory.
            if (shard.Key.Length == 0 || shard.Key != Path.GetFileName(shard.Key) || shard.Key is "." or "..")
                throw new CheckpointException($"{indexPath}: shard {SafetensorsFile.Quote(shard.Key)} ({listedFor}) is not a file name");
            string shardPath = Path.Combine(directory, shard.Key);
            if (!File.Exists(shardPath))
                throw new CheckpointException($"{indexPath}: shard {SafetensorsFile.Quote(shard.Key)} ({listedFor}) does not exist");
            foreach (SafetensorsEntry entry in SafetensorsFile.ReadHeader(shardPath).Tensors.Values)
                if (!tensors.TryAdd(entry.Name, new CheckpointTensor(shardPath, entry)))
                    throw new CheckpointException($"{indexPath}: tensor {SafetensorsFile.Quote(entry.Name)} is in both " +
                        $"{Path.GetFileName(tensors[entry.Name].FilePath)} and {shard.Key}");
        }
        foreach ((string name, string shard) in weightMap)
            if (!tensors.TryGetValue(name, out CheckpointTensor? found) || Path.GetFileName(found.FilePath) != shard)
                throw new CheckpointException($"{indexPath}: tensor {SafetensorsFile.Quote(name)} is listed for shard {shard} but absent from it");
        return new ReadOnlyDictionary<string, CheckpointTensor>(tensors);
    }

    static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        if (new FileInfo(indexPath).Length > SafetensorsFile.MaxHeaderBytes)
            throw new CheckpointException($"{indexPath}: index file is larger than {SafetensorsFile.MaxHeaderBytes / 1_000_000} MB");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{indexPath}: not valid JSON: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"{indexPath}: has no \"weight_map\" object");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty item in map.EnumerateObject())
            {
                if (item.Value.ValueKind != JsonValueKind.String)
                    throw new CheckpointException($"{indexPath}: weight_map value for tensor {SafetensorsFile.Quote(item.Name)} is not a file name string");
                if (!weightMap.TryAdd(item.Name, item.Value.GetString()!))
                    throw new CheckpointException($"{indexPath}: tensor {SafetensorsFile.Quote(item.Name)} is listed twice in weight_map");
            }
            return weightMap;
        }
    }

    static string NoSafetensorsMessage(string directory)
    {
        string message = $"{directory}: no {SingleFileName} or {IndexFileName} found";
        bool hasPytorchBin = File.Exists(Path.Combine(directory, "pytorch_model.bin"))
            || File.Exists(Path.Combine(directory, "pytorch_model.bin.index.json"));
        return hasPytorchBin
            ? message + "; pytorch_model.bin is not supported, convert it with transformers: " +
              "AutoModelForCausalLM.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)"
            : message;
    }
}
