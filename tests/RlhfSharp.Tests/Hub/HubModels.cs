using System.Text;
using RlhfSharp.Hub;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Tests.Models;

namespace RlhfSharp.Tests.Hub;

/// <summary>
/// The files the stub serves: a tiny random llama (TinyModels) saved as transformers saves it, its tokenizer and
/// generation files, and files a model repository also holds that RlhfSharp must not fetch.
/// </summary>
public static class HubModels
{
    static readonly Lazy<string> SingleFileFolder = new(() => Save(maxShardBytes: null));
    static readonly Lazy<string> ShardedFolder = new(() => Save(maxShardBytes: 2_000));

    /// <summary>config.json, model.safetensors, tokenizer/generation files, README.md, pytorch_model.bin, onnx/model.onnx.</summary>
    public static string SingleFile => SingleFileFolder.Value;

    /// <summary>The same model in model-0000i-of-0000N.safetensors shards with model.safetensors.index.json.</summary>
    public static string Sharded => ShardedFolder.Value;

    /// <summary>What RlhfSharp takes from <see cref="SingleFile"/>.</summary>
    public static readonly string[] NeededFiles = ["config.json", "generation_config.json", "merges.txt", "model.safetensors", "tokenizer_config.json", "vocab.json"];

    static string Save(long? maxShardBytes)
    {
        string folder = TestPaths.NewTempDirectory("hub-model");
        using (var model = TinyModels.Create("llama_gqa_tied", seed: 7))
        {
            model.SavePretrained(folder);
            if (maxShardBytes is { } bytes)
            {
                File.Delete(Path.Combine(folder, ModelCheckpoint.SingleFileName));
                ModelCheckpoint.Save(folder, model.state_dict().Select(p => KeyValuePair.Create(p.Key, p.Value.detach())).ToList(), bytes);
            }
        }
        // A byte-level BPE over a few characters: enough for the loader to build a tokenizer from vocab.json + merges.txt.
        File.WriteAllText(Path.Combine(folder, "vocab.json"), """{"a": 0, "b": 1, "ab": 2, "Ġ": 3}""");
        File.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\na b\n");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"model_max_length": 64}""");
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), """{"eos_token_id": 96}""");
        File.WriteAllText(Path.Combine(folder, "README.md"), "# tiny\n");
        File.WriteAllBytes(Path.Combine(folder, "pytorch_model.bin"), Encoding.ASCII.GetBytes("not needed"));
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        File.WriteAllBytes(Path.Combine(folder, "onnx", "model.onnx"), Encoding.ASCII.GetBytes("not needed either"));
        return folder;
    }

    /// <summary>Settings for the stub: a fresh cache, no token, no waiting between resumptions.</summary>
    public static HubSettings Settings(HubStub stub, string? cache = null, string? token = null) => new()
    {
        Endpoint = stub.Endpoint, CacheDirectory = cache ?? TestPaths.NewTempDirectory("hf-cache"), Token = token,
        TokenSource = token is null ? null : "HF_TOKEN", RetryDelay = TimeSpan.Zero,
        MetadataTimeout = TimeSpan.FromSeconds(30), ReadTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Logits of a model folder for a fixed input, to compare a downloaded model with its source.</summary>
    public static float[] Logits(string folder)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var model = CausalLanguageModel.FromPretrained(folder);
        using var ids = TorchSharp.torch.tensor(new long[] { 1, 5, 9, 2 }).unsqueeze(0);
        using (TorchSharp.torch.no_grad()) return model.call(new DecoderInput(ids)).data<float>().ToArray();
    }
}
