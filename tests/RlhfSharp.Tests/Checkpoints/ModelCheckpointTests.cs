using System.Text.Json;
using RlhfSharp.Models.Checkpoints;
using TorchSharp;
using static RlhfSharp.Tests.Checkpoints.SafetensorsTestFiles;

namespace RlhfSharp.Tests.Checkpoints;

public class ModelCheckpointTests
{
    static List<KeyValuePair<string, torch.Tensor>> Layers(int count) =>
        Enumerable.Range(0, count).Select(i => KeyValuePair.Create($"layers.{i}.weight", torch.randn(10, 10))).ToList();

    static string[] FileNames(string dir) => Directory.GetFiles(dir).Select(Path.GetFileName).Order().ToArray()!;

    static void AssertOpenFails(string dir, string named, params string[] fragments) =>
        AssertMessage(Assert.Throws<CheckpointException>(() => ModelCheckpoint.Open(dir)), named, fragments);

    [Fact]
    public void Small_model_is_saved_as_a_single_file_with_pt_metadata()
    {
        string dir = TestPaths.NewTempDirectory();
        var tensors = Layers(2);
        ModelCheckpoint.Save(dir, tensors);

        Assert.Equal(["model.safetensors"], FileNames(dir));
        Assert.Equal("pt", SafetensorsFile.ReadHeader(Path.Combine(dir, "model.safetensors")).Metadata["format"]);
        ModelCheckpoint checkpoint = ModelCheckpoint.Open(dir);
        foreach ((string name, torch.Tensor expected) in tensors)
        {
            using torch.Tensor loaded = checkpoint.Load(name);
            AssertSameTensor(expected, loaded);
        }
    }

    [Fact]
    public void Sharded_save_writes_shards_and_an_index_that_open_reads_back()
    {
        string dir = TestPaths.NewTempDirectory();
        var tensors = Layers(6); // 400 bytes each: two per 1000-byte shard
        ModelCheckpoint.Save(dir, tensors, maxShardBytes: 1000);

        string[] shards = ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"];
        Assert.Equal([.. shards, "model.safetensors.index.json"], FileNames(dir));
        using (var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "model.safetensors.index.json"))))
        {
            Assert.Equal(2400, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            Assert.Equal(shards[2], index.RootElement.GetProperty("weight_map").GetProperty("layers.5.weight").GetString());
        }

        ModelCheckpoint checkpoint = ModelCheckpoint.Open(dir);
        Assert.Equal(tensors.Select(pair => pair.Key), checkpoint.Tensors.Keys);
        Assert.Equal(shards[1], Path.GetFileName(checkpoint.Tensors["layers.2.weight"].FilePath));
        foreach ((string name, torch.Tensor expected) in tensors)
        {
            using torch.Tensor destination = torch.empty(10, 10);
            checkpoint.LoadInto(name, destination);
            AssertSameTensor(expected, destination);
        }
    }

    [Fact]
    public void Switching_layouts_removes_only_the_stale_files_of_the_other_layout()
    {
        string dir = TestPaths.NewTempDirectory();
        File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
        ModelCheckpoint.Save(dir, Layers(2));
        ModelCheckpoint.Save(dir, Layers(6), maxShardBytes: 1000);
        Assert.DoesNotContain("model.safetensors", FileNames(dir));

        ModelCheckpoint.Save(dir, Layers(4), maxShardBytes: 1000);
        Assert.Equal(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"],
            FileNames(dir));
        Assert.Equal(4, ModelCheckpoint.Open(dir).Tensors.Count);

        ModelCheckpoint.Save(dir, Layers(1), maxShardBytes: 1000);
        Assert.Equal(["config.json", "model.safetensors"], FileNames(dir));
    }

    [Fact]
    public void Tiny_gpt2_directory_opens()
    {
        ModelCheckpoint checkpoint = ModelCheckpoint.Open(TestPaths.Shared("models", "tiny-random-gpt2"));
        Assert.Equal(64, checkpoint.Tensors.Count);
        using torch.Tensor wte = checkpoint.Load("transformer.wte.weight");
        Assert.Equal([1000L, 32L], wte.shape);
        AssertMessage(Assert.Throws<CheckpointException>(() => checkpoint.Load("lm_head.weight")), "tiny-random-gpt2", "'lm_head.weight'");
    }

    [Fact]
    public void Missing_or_empty_directories_fail_and_pytorch_bin_gets_a_conversion_hint()
    {
        string dir = TestPaths.NewTempDirectory();
        string missing = Path.Combine(dir, "absent-model");
        AssertOpenFails(missing, "absent-model", "does not exist");
        AssertOpenFails(dir, Path.GetFileName(dir), "no model.safetensors or model.safetensors.index.json");
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model.bin"), [0]);
        AssertOpenFails(dir, Path.GetFileName(dir), "pytorch_model.bin is not supported", "convert it with");
    }

    [Fact]
    public void Index_errors_name_the_index_the_shard_and_the_tensor()
    {
        string dir = TestPaths.NewTempDirectory();
        SafetensorsFile.Save(Path.Combine(dir, "a.safetensors"), [new("x", torch.zeros(1)), new("y", torch.zeros(1))]);
        SafetensorsFile.Save(Path.Combine(dir, "b.safetensors"), [new("y", torch.zeros(1))]);
        string index = Path.Combine(dir, "model.safetensors.index.json");
        void WriteIndex(string weightMap) => File.WriteAllText(index, """{"metadata": {"total_size": 8}, "weight_map": {""" + weightMap + "}}");

        WriteIndex("""
            "x": "a.safetensors", "z": "missing.safetensors"
            """);
        AssertOpenFails(dir, index, "shard 'missing.safetensors'", "'z'", "does not exist");
        WriteIndex("""
            "x": "b.safetensors"
            """);
        AssertOpenFails(dir, index, "tensor 'x'", "b.safetensors", "absent");
        WriteIndex("""
            "x": "a.safetensors", "y": "b.safetensors"
            """);
        AssertOpenFails(dir, index, "tensor 'y'", "a.safetensors", "b.safetensors");
        WriteIndex("""
            "x": "../a.safetensors"
            """);
        AssertOpenFails(dir, index, "'../a.safetensors'", "not a file name");
        File.WriteAllText(index, """{"weight_map": ["x"]}""");
        AssertOpenFails(dir, index, "\"weight_map\"");
    }
}
