using System.Buffers.Binary;
using RlhfSharp.Models.Checkpoints;
using TorchSharp;
using static RlhfSharp.Tests.Checkpoints.SafetensorsTestFiles;

namespace RlhfSharp.Tests.Checkpoints;

public class SafetensorsBadFileTests
{
    static string TinyGpt2 => TestPaths.Shared("models", "tiny-random-gpt2", "model.safetensors");

    static void AssertHeaderFails(byte[] bytes, params string[] fragments)
    {
        string path = Write(TestPaths.NewTempDirectory(), "bad.safetensors", bytes);
        AssertMessage(Assert.Throws<CheckpointException>(() => SafetensorsFile.ReadHeader(path)), path, fragments);
    }

    static byte[] LengthPrefixOnly(ulong headerLength, int extraBytes)
    {
        var bytes = new byte[8 + extraBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        return bytes;
    }

    [Fact]
    public void File_shorter_than_the_length_prefix_fails() => AssertHeaderFails([1, 2, 3, 4, 5], "5 bytes", "too short");

    [Fact]
    public void Header_length_past_the_end_of_the_file_fails() =>
        AssertHeaderFails(LengthPrefixOnly(1000, 20), "header length 1000", "file size 28", "truncated file?");

    [Fact]
    public void Header_claiming_2_to_the_60_bytes_fails_without_allocating()
    {
        string path = Write(TestPaths.NewTempDirectory(), "huge.safetensors", LengthPrefixOnly(1UL << 60, 64));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.ReadHeader(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000, "the header length was trusted for an allocation");
        AssertMessage(error, path, (1UL << 60).ToString(), "100 MB limit");
    }

    [Fact]
    public void Header_length_with_the_top_bit_set_fails() =>
        AssertHeaderFails(LengthPrefixOnly(ulong.MaxValue, 8), ulong.MaxValue.ToString(), "100 MB limit");

    [Theory]
    [InlineData("""{"w": {"dtype": "F32", """, "not valid JSON")]
    [InlineData("[1, 2]", "JSON Array, not an object")]
    [InlineData("""{"w": [1]}""", "'w'", "not a JSON object")]
    [InlineData("""{"w": {"shape": [1], "data_offsets": [0, 4]}}""", "'w'", "\"dtype\"")]
    [InlineData("""{"w": {"dtype": "F32", "data_offsets": [0, 4]}}""", "'w'", "\"shape\"")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}""", "'w'", "1.5")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}""", "'w'", "expected 2")]
    [InlineData("""{"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}""", "'w'", "unknown dtype 'F8_E4M3'")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}}""", "'w'", "[-1, 4]", "negative")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}""", "'w'", "[8, 4]")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [-4], "data_offsets": [-4, 0]}}""", "'w'", "negative")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}""", "'w'", "12 bytes", "needs 16")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}}""", "'w'", "more than 2^63")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}""", "'w'", "[0, 32] exceed the file's data size 16 (truncated file?)")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", "'b'", "overlap tensor 'a'")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", "'w'", "twice")]
    [InlineData("""{"__metadata__": {"format": 1}}""", "__metadata__", "'format'")]
    [InlineData("""{"bad\nname": {"dtype": "X", "shape": [], "data_offsets": [0, 1]}}""", "'bad?name'")]
    public void Invalid_header_fails_with_a_one_line_message(string json, params string[] fragments) =>
        AssertHeaderFails(Build(json, new byte[16]), fragments);

    [Fact]
    public void Header_that_is_not_utf8_fails() => AssertHeaderFails(Build([(byte)'{', 0xFF, (byte)'}'], []), "not valid UTF-8");

    [Fact]
    public void Missing_file_fails() =>
        AssertMessage(Assert.Throws<CheckpointException>(() => SafetensorsFile.ReadHeader("/nonexistent/none.safetensors")),
            "none.safetensors", "does not exist");

    [Fact]
    public void Truncated_tiny_gpt2_fails_on_the_first_tensor_past_the_end()
    {
        byte[] bytes = File.ReadAllBytes(TinyGpt2);
        string dir = TestPaths.NewTempDirectory();
        string inData = Write(dir, "cut-data.safetensors", bytes[..200_000]);
        AssertMessage(Assert.Throws<CheckpointException>(() => SafetensorsFile.ReadHeader(inData)), inData,
            "tensor 'transformer.", "truncated file?");
        string inHeader = Write(dir, "cut-header.safetensors", bytes[..1000]);
        AssertMessage(Assert.Throws<CheckpointException>(() => SafetensorsFile.ReadHeader(inHeader)), inHeader,
            "header length 5984 exceeds the file size 1000");
    }

    [Fact]
    public void File_truncated_after_its_header_was_read_fails_on_load()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "model.safetensors");
        File.Copy(TinyGpt2, path);
        SafetensorsEntry last = SafetensorsFile.ReadHeader(path).Tensors.Values.MaxBy(entry => entry.End)!;
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(stream.Length - 100);

        AssertMessage(Assert.Throws<CheckpointException>(() => SafetensorsFile.LoadTensor(path, last)), path,
            $"'{last.Name}'", "truncated file?");
        using torch.Tensor destination = torch.empty(last.Shape);
        AssertMessage(Assert.Throws<CheckpointException>(() => SafetensorsFile.LoadInto(path, last, destination)), path,
            $"'{last.Name}'", "truncated file?");
    }

    [Fact]
    public void Hand_made_entry_with_a_wrong_length_is_rejected_before_reading()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "w.safetensors");
        SafetensorsFile.Save(path, [new("w", torch.ones(4))]);
        var forged = new SafetensorsEntry("w", "F32", [8], 0, 16);
        AssertMessage(Assert.Throws<CheckpointException>(() => SafetensorsFile.LoadTensor(path, forged)), path, "'w'", "needs 32");
    }

    [Fact]
    public void Saving_unsupported_dtypes_or_duplicate_names_is_refused_and_leaves_no_file()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "x.safetensors");
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Save(path, [new("c", torch.zeros(2, dtype: torch.ScalarType.ComplexFloat32))]));
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Save(path, [new("a", torch.zeros(1)), new("a", torch.zeros(1))]));
        Assert.Empty(Directory.GetFiles(dir));
    }
}
