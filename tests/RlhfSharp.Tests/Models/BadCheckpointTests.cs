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

    /// <summary>A valid tiny model directory (GPT-2 unless named) whose weights or config the test then edits.</summary>
    static (string Dir, string Weights, Dictionary<string, Tensor> State) SavedModel(string variant = "gpt2")
    {
        string dir = TestPaths.NewTempDirectory();
        using var model = TinyModels.Create(variant);
        model.SavePretrained(dir);
        var state = model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        return (dir, Path.Combine(dir, ModelCheckpoint.SingleFileName), state);
    }

    static void Rewrite(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors) => SafetensorsFile.Save(path, tensors);

    /// <summary>A saved <paramref name="variant"/> whose config.json has these fields replaced.</summary>
    static string SavedModelWithConfig(string variant, params (string Name, JsonNode? Value)[] fields)
    {
        var (dir, _, _) = SavedModel(variant);
        string path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, TinyModels.With(JsonNode.Parse(File.ReadAllText(path))!.AsObject(), fields).ToJsonString());
        return dir;
    }

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

    [Theory]
    [InlineData("qwen2", "model.layers.0.self_attn.k_proj.bias")]
    [InlineData("qwen2_tied", "model.layers.1.self_attn.q_proj.bias")]
    [InlineData("phi3", "model.layers.0.self_attn.qkv_proj.weight")]
    [InlineData("phi3_partial_rotary", "model.layers.1.mlp.gate_up_proj.weight")]
    [InlineData("llama3_rope", "model.layers.0.mlp.up_proj.weight")]
    public void A_missing_tensor_of_a_new_dialect_is_named(string variant, string tensor)
    {
        var (dir, weights, state) = SavedModel(variant);
        Rewrite(weights, state.Where(p => p.Key != tensor));
        Assert.Contains($"'{tensor}' is missing", LoadError(dir));
    }

    [Fact]
    public void Qwen2_has_no_output_projection_bias()
    {
        var (dir, weights, state) = SavedModel("qwen2");
        Rewrite(weights, state.Append(new("model.layers.0.self_attn.o_proj.bias", zeros(32))));
        Assert.Contains("unexpected tensor 'model.layers.0.self_attn.o_proj.bias'", LoadError(dir));
    }

    [Theory]
    [InlineData("model.layers.0.self_attn.qkv_proj.weight", 96)] // q, k and v each of full width: not this GQA config's 32 + 16 + 16
    [InlineData("model.layers.1.mlp.gate_up_proj.weight", 48)]   // the up half only
    public void A_fused_phi3_tensor_of_the_wrong_shape_is_named(string tensor, long rows)
    {
        var (dir, weights, state) = SavedModel("phi3");
        state[tensor] = zeros(rows, 32);
        Rewrite(weights, state);
        string message = LoadError(dir);
        Assert.Contains(tensor, message);
        Assert.Contains("model.safetensors", message);
    }

    [Theory]
    [InlineData("llama", "rope_type", "yarn")]
    [InlineData("llama", "rope_type", "dynamic")]
    [InlineData("qwen2", "type", "yarn")]
    [InlineData("phi3", "type", "longrope")]
    [InlineData("phi3", "rope_type", "su")]
    public void An_unsupported_rope_scaling_is_named(string variant, string key, string ropeType)
    {
        string dir = SavedModelWithConfig(variant, ("rope_scaling", new JsonObject { [key] = ropeType, ["factor"] = 4.0 }));
        Assert.EndsWith($"config.json: field 'rope_scaling': unsupported rope_type '{ropeType}' (supported: linear, llama3)", LoadError(dir));
    }

    [Fact]
    public void A_llama3_scaling_without_its_frequency_factors_is_named()
    {
        string dir = SavedModelWithConfig("llama", ("rope_scaling", new JsonObject
        {
            ["rope_type"] = "llama3", ["factor"] = 8.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 16,
        }));
        Assert.EndsWith("config.json: field 'rope_scaling.low_freq_factor' is missing", LoadError(dir));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void A_llama3_scaling_whose_bands_are_empty_or_inverted_is_refused(double highFrequencyFactor)
    {
        string dir = SavedModelWithConfig("llama", ("rope_scaling", new JsonObject
        {
            ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = highFrequencyFactor,
            ["original_max_position_embeddings"] = 16,
        }));
        Assert.Contains("field 'rope_scaling.high_freq_factor': must exceed low_freq_factor 1", LoadError(dir));
    }

    [Fact]
    public void A_rope_scaling_that_is_not_an_object_is_named()
    {
        string dir = SavedModelWithConfig("llama", ("rope_scaling", 8.0));
        Assert.EndsWith("config.json: field 'rope_scaling': expected an object, found 8", LoadError(dir));
    }

    [Theory]
    [InlineData("hidden_size", "\"x\"", "expected an integer, found \"x\"")]
    [InlineData("rope_theta", "true", "expected a number, found true")]
    [InlineData("tie_word_embeddings", "1", "expected true or false, found 1")]
    [InlineData("hidden_act", "3", "expected a string, found 3")]
    public void A_field_of_the_wrong_json_kind_is_named_with_the_kind_it_needs(string field, string json, string expected)
    {
        var config = TinyModels.ConfigJson("llama");
        config[field] = JsonNode.Parse(json);
        var error = Assert.Throws<CheckpointException>(() => ModelConfig.FromJson(config, "m/config.json"));
        Assert.Equal($"m/config.json: field '{field}': {expected}", error.Message);
    }

    [Theory]
    [InlineData("llama", "max_position_embeddings", "0", "field 'max_position_embeddings': must be positive, got 0")]
    [InlineData("gpt2", "n_embd", "-32", "field 'n_embd': must be positive, got -32")]
    [InlineData("llama", "eos_token_id", "97", "field 'eos_token_id': 97 is not a token id of the vocabulary of 97")]
    [InlineData("qwen2", "eos_token_id", "[96, 99999999]", "field 'eos_token_id': 99999999 is not a token id of the vocabulary of 97")]
    public void A_size_or_end_id_out_of_range_names_its_field(string variant, string field, string json, string expected)
    {
        var config = TinyModels.ConfigJson(variant);
        config[field] = JsonNode.Parse(json);
        var error = Assert.Throws<CheckpointException>(() => ModelConfig.FromJson(config, "m/config.json"));
        Assert.Equal($"m/config.json: {expected}", error.Message);
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
