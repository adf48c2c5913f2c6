using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Tests.Cli;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>Each broken model directory gives a one-line error naming the file and tensor, never a crash.</summary>
public class BadCheckpointTests
{
    const string Tensor = "transformer.wpe.weight";

    /// <summary>A valid tiny GPT-2 directory whose weights the test then edits.</summary>
    static (string Dir, string Weights, Dictionary<string, Tensor> State) SavedModel()
    {
        string dir = TestPaths.NewTempDirectory();
        using var model = TinyModels.Create("gpt2");
        model.SavePretrained(dir);
        var state = model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        return (dir, Path.Combine(dir, ModelCheckpoint.SingleFileName), state);
    }

    static void Rewrite(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors) => SafetensorsFile.Save(path, tensors);

    static string LoadError(string dir)
    {
        var error = Assert.Throws<CheckpointException>(() => CausalLanguageModel.FromPretrained(dir));
        Assert.DoesNotContain('\n', error.Message);
        // The CLI turns it into the same single line on stderr and a non-zero exit.
        var cli = CliRunner.Run("generate", "--model", dir, "--input-ids", "1,2", "--max-new-tokens", "4"); // the default 64 fills the tiny model's context
        Assert.Equal(1, cli.ExitCode);
        Assert.Equal($"error: {error.Message}", cli.Error.Trim());
        return error.Message;
    }

    [Fact]
    public void Missing_config()
    {
        var (dir, _, _) = SavedModel();
        File.Delete(Path.Combine(dir, "config.json"));
        Assert.Contains("config.json not found", LoadError(dir));
    }

    [Fact]
    public void Unknown_model_type()
    {
        var (dir, _, _) = SavedModel();
        string path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["model_type"] = "bloom";
        File.WriteAllText(path, json.ToJsonString());
        string message = LoadError(dir);
        Assert.Contains("config.json", message);
        Assert.Contains("'bloom'", message);
    }

    [Fact]
    public void Missing_tensor()
    {
        var (dir, weights, state) = SavedModel();
        Rewrite(weights, state.Where(p => p.Key != Tensor));
        Assert.Contains($"'{Tensor}' is missing", LoadError(dir));
    }

    [Fact]
    public void Unexpected_tensor()
    {
        var (dir, weights, state) = SavedModel();
        Rewrite(weights, state.Append(new("transformer.h.0.attn.extra", zeros(2))));
        string message = LoadError(dir);
        Assert.Contains("model.safetensors", message);
        Assert.Contains("unexpected tensor 'transformer.h.0.attn.extra'", message);
    }

    [Fact]
    public void Broadcastable_wrong_shape_is_refused_not_broadcast()
    {
        var (dir, weights, state) = SavedModel();
        state[Tensor] = zeros(1, 32); // the model expects [64, 32]; [1, 32] would broadcast silently in PyBridge
        Rewrite(weights, state);
        string message = LoadError(dir);
        Assert.Contains(Tensor, message);
        Assert.Contains("model.safetensors", message);
    }

    [Fact]
    public void Truncated_file()
    {
        var (dir, weights, _) = SavedModel();
        byte[] bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 100)]);
        string message = LoadError(dir);
        Assert.Contains("model.safetensors", message);
        Assert.Contains("transformer.", message);
    }

    [Fact]
    public void Header_offsets_beyond_the_file()
    {
        var (dir, weights, _) = SavedModel();
        string header = """{"transformer.wte.weight":{"dtype":"F32","shape":[250000000],"data_offsets":[0,1000000000]}}""";
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + headerBytes.Length + 64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerBytes.Length);
        headerBytes.CopyTo(bytes, 8);
        File.WriteAllBytes(weights, bytes);
        string message = LoadError(dir);
        Assert.Contains("transformer.wte.weight", message);
        Assert.Contains("model.safetensors", message);
    }

    [Fact]
    public void Missing_directory()
    {
        string missing = Path.Combine(TestPaths.NewTempDirectory(), "nope");
        Assert.Equal($"{missing}: model folder does not exist", Assert.Throws<CheckpointException>(() => CausalLanguageModel.FromPretrained(missing)).Message);
        // The CLI names the option before loading anything.
        Assert.Equal($"error: option --model is {missing}: folder does not exist", CliRunner.Run("generate", "--model", missing, "--input-ids", "1,2").Error.Trim());
    }
}
