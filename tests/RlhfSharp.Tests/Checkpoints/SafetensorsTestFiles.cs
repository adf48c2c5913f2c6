using System.Buffers.Binary;
using System.Text;
using TorchSharp;

namespace RlhfSharp.Tests.Checkpoints;

/// <summary>Builds safetensors bytes by hand, so tests check the format independently of our writer.</summary>
internal static class SafetensorsTestFiles
{
    public static byte[] Build(string headerJson, byte[] data) => Build(Encoding.UTF8.GetBytes(headerJson), data);

    public static byte[] Build(byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    public static string Write(string directory, string name, byte[] bytes)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static byte[] LittleEndian(params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), values[i]);
        return bytes;
    }

    public static void AssertSameTensor(torch.Tensor expected, torch.Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(SameValues(expected, actual), "tensor values differ");
    }

    public static bool SameValues(torch.Tensor expected, torch.Tensor actual)
    {
        using var scope = torch.NewDisposeScope();
        return expected.shape.SequenceEqual(actual.shape) && expected.eq(actual).all().item<bool>();
    }

    /// <summary>A one-line message that names the file and the given fragments (tensor names and the like).</summary>
    public static void AssertMessage(CheckpointException error, string path, params string[] fragments)
    {
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\r', error.Message);
        Assert.Contains(Path.GetFileName(path), error.Message);
        foreach (string fragment in fragments) Assert.Contains(fragment, error.Message);
    }
}
