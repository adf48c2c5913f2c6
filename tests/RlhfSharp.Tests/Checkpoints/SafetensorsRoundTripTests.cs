using System.Buffers.Binary;
using System.Text.Json;
using RlhfSharp.Models.Checkpoints;
using TorchSharp;
using static RlhfSharp.Tests.Checkpoints.SafetensorsTestFiles;

namespace RlhfSharp.Tests.Checkpoints;

public class SafetensorsRoundTripTests
{
    static List<KeyValuePair<string, torch.Tensor>> SampleTensors() =>
    [
        new("f32", torch.randn(2, 3)),
        new("f64", torch.randn(4, dtype: torch.ScalarType.Float64)),
        new("f16", torch.randn(3, 2).to_type(torch.ScalarType.Float16)),
        new("bf16", torch.randn(5).to_type(torch.ScalarType.BFloat16)),
        new("i64", torch.tensor(new long[] { long.MinValue, -1, 0, long.MaxValue }).reshape(2, 2)),
        new("i32", torch.tensor(new[] { int.MinValue, 7, int.MaxValue })),
        new("i16", torch.arange(-3, 3).to_type(torch.ScalarType.Int16)),
        new("i8", torch.arange(-128, 128, 37).to_type(torch.ScalarType.Int8)),
        new("u8", torch.tensor(new byte[] { 0, 200, 255 })),
        new("bool", torch.tensor(new[] { true, false, false, true })),
        new("scalar", torch.tensor(3.5f)),
        new("empty", torch.zeros(0, 3)),
        new("transposed", torch.arange(12, dtype: torch.ScalarType.Float32).reshape(3, 4).t()),
    ];

    [Fact]
    public void Round_trip_keeps_order_dtype_shape_values_and_metadata()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "all.safetensors");
        var tensors = SampleTensors();
        SafetensorsFile.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" });

        SafetensorsHeader header = SafetensorsFile.ReadHeader(path);
        Assert.Equal(tensors.Select(pair => pair.Key), header.Tensors.Keys);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal("ünïcode", header.Metadata["note"]);
        Assert.Equal(["F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F32", "F32", "F32"],
            header.Tensors.Values.Select(entry => entry.DType));
        Assert.Empty(header.Tensors["scalar"].Shape);
        Assert.Equal([0L, 3L], header.Tensors["empty"].Shape);
        foreach ((string name, torch.Tensor expected) in tensors)
        {
            using torch.Tensor loaded = SafetensorsFile.LoadTensor(path, header.Tensors[name]);
            AssertSameTensor(expected, loaded);
        }
    }

    [Fact]
    public void Writer_pads_the_header_to_8_bytes_and_packs_the_data()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "packed.safetensors");
        var tensors = SampleTensors();
        SafetensorsFile.Save(path, tensors);

        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        using var json = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        Assert.False(json.RootElement.TryGetProperty("__metadata__", out _));
        long expectedOffset = 0;
        foreach (SafetensorsEntry entry in SafetensorsFile.ReadHeader(path).Tensors.Values)
        {
            Assert.Equal(expectedOffset, entry.Begin);
            expectedOffset = entry.End;
        }
        Assert.Equal(8 + headerLength + expectedOffset, bytes.Length);
    }

    [Fact]
    public void Hand_built_bf16_file_loads_as_exact_float32()
    {
        // No padding and no metadata: the reader must not depend on our writer's habits.
        byte[] data = LittleEndian(0x3F80, 0xC020, 0x3E20, 0x4049);
        string path = Write(TestPaths.NewTempDirectory(), "bf16.safetensors",
            Build("""{"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}""", data));

        SafetensorsEntry entry = SafetensorsFile.ReadHeader(path).Tensors["w"];
        using torch.Tensor loaded = SafetensorsFile.LoadTensor(path, entry, torch.ScalarType.Float32);
        Assert.Equal(torch.ScalarType.Float32, loaded.dtype);
        Assert.Equal([2L, 2L], loaded.shape);
        Assert.Equal([1f, -2.5f, 0.15625f, 3.140625f], loaded.data<float>().ToArray());
    }

    [Fact]
    public void Hand_built_f16_file_converts_to_float32_on_load_and_into_a_destination()
    {
        byte[] data = LittleEndian(0x3C00, 0xC000, 0x7BFF, 0x0001, 0x0400, 0x3555);
        string path = Write(TestPaths.NewTempDirectory(), "f16.safetensors",
            Build("""{"__metadata__":{"format":"pt"},"h":{"dtype":"F16","shape":[6],"data_offsets":[0,12]}}""", data));
        float[] expected = [1f, -2f, 65504f, MathF.ScaleB(1f, -24), MathF.ScaleB(1f, -14), 0.333251953125f];

        SafetensorsEntry entry = SafetensorsFile.ReadHeader(path).Tensors["h"];
        using torch.Tensor loaded = SafetensorsFile.LoadTensor(path, entry, torch.ScalarType.Float32);
        Assert.Equal(expected, loaded.data<float>().ToArray());

        using torch.Tensor destination = torch.zeros(6);
        SafetensorsFile.LoadInto(path, entry, destination);
        Assert.Equal(expected, destination.data<float>().ToArray());
    }

    [Fact]
    public void Integer_tensors_keep_their_type_when_floats_are_converted()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "ids.safetensors");
        using torch.Tensor ids = torch.arange(5);
        SafetensorsFile.Save(path, [new("ids", ids)]);
        using torch.Tensor loaded = SafetensorsFile.LoadTensor(path, SafetensorsFile.ReadHeader(path).Tensors["ids"], torch.ScalarType.Float32);
        AssertSameTensor(ids, loaded);
    }

    [Fact]
    public void Tiny_gpt2_header_lists_the_embedding_and_layer_norms_load_as_ones()
    {
        string path = TestPaths.Shared("models", "tiny-random-gpt2", "model.safetensors");
        SafetensorsHeader header = SafetensorsFile.ReadHeader(path);

        SafetensorsEntry wte = header.Tensors["transformer.wte.weight"];
        Assert.Equal("F32", wte.DType);
        Assert.Equal([1000L, 32L], wte.Shape);
        Assert.Equal("pt", header.Metadata["format"]);
        using torch.Tensor lnF = SafetensorsFile.LoadTensor(path, header.Tensors["transformer.ln_f.weight"]);
        Assert.True(SameValues(torch.ones(32), lnF));
    }

    [Fact]
    public void LoadInto_fills_parameters_in_place_and_non_contiguous_views_through_a_copy()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "w.safetensors");
        using torch.Tensor weight = torch.randn(3, 4);
        SafetensorsFile.Save(path, [new("w", weight)]);
        SafetensorsEntry entry = SafetensorsFile.ReadHeader(path).Tensors["w"];

        using var parameter = new TorchSharp.Modules.Parameter(torch.zeros(3, 4));
        SafetensorsFile.LoadInto(path, entry, parameter);
        Assert.True(SameValues(weight, parameter));

        using torch.Tensor storage = torch.zeros(4, 3);
        using torch.Tensor view = storage.t();
        SafetensorsFile.LoadInto(path, entry, view);
        Assert.True(SameValues(weight, storage.t()));
    }

    [Fact]
    public void LoadInto_rejects_a_shape_that_would_only_broadcast_and_an_integer_to_float_load()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "row.safetensors");
        SafetensorsFile.Save(path, [new("model.row", torch.ones(1, 4)), new("model.ids", torch.arange(4))]);
        SafetensorsHeader header = SafetensorsFile.ReadHeader(path);

        var shape = Assert.Throws<CheckpointException>(() => SafetensorsFile.LoadInto(path, header.Tensors["model.row"], torch.zeros(3, 4)));
        AssertMessage(shape, path, "'model.row'", "[1, 4]", "[3, 4]");
        var dtype = Assert.Throws<CheckpointException>(() => SafetensorsFile.LoadInto(path, header.Tensors["model.ids"], torch.zeros(4)));
        AssertMessage(dtype, path, "'model.ids'", "I64");
    }

    [Fact]
    public void Saving_over_a_larger_file_leaves_exactly_the_new_content_and_no_temp_files()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "model.safetensors");
        SafetensorsFile.Save(path, [new("big", torch.ones(10_000))]);
        long oldLength = new FileInfo(path).Length;

        using torch.Tensor small = torch.arange(3, dtype: torch.ScalarType.Float32);
        SafetensorsFile.Save(path, [new("small", small)]);

        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path));
        Assert.True(new FileInfo(path).Length < oldLength);
        Assert.Equal(8 + headerLength + 12, new FileInfo(path).Length);
        SafetensorsHeader header = SafetensorsFile.ReadHeader(path);
        Assert.Equal(["small"], header.Tensors.Keys);
        using torch.Tensor loaded = SafetensorsFile.LoadTensor(path, header.Tensors["small"]);
        AssertSameTensor(small, loaded);
        Assert.Equal([path], Directory.GetFiles(dir));
    }
}
