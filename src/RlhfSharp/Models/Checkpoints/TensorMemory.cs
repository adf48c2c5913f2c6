using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace RlhfSharp.Models.Checkpoints;

/// <summary>
/// Moves bytes between files and a contiguous CPU tensor's own memory, in chunks, so that tensors over
/// 2 GiB work (Tensor.bytes is an int-sized Span) and no intermediate managed buffer is needed.
/// </summary>
static unsafe partial class TensorMemory
{
    const int ChunkBytes = 16 << 20;

    /// <summary>Fills <paramref name="destination"/> (contiguous, CPU, exactly <paramref name="byteLength"/> bytes) from the file.</summary>
    /// <returns>False when the file ended before all bytes were read.</returns>
    public static bool TryRead(SafeFileHandle file, long fileOffset, torch.Tensor destination, long byteLength)
    {
        byte* data = DataPointer(destination, byteLength);
        for (long done = 0; done < byteLength;)
        {
            int chunk = (int)Math.Min(ChunkBytes, byteLength - done);
            int read = RandomAccess.Read(file, new Span<byte>(data + done, chunk), fileOffset + done);
            if (read == 0) return false;
            done += read;
        }
        GC.KeepAlive(destination);
        return true;
    }

    /// <summary>Writes the bytes of a contiguous CPU tensor.</summary>
    public static void Write(Stream stream, torch.Tensor source, long byteLength)
    {
        byte* data = DataPointer(source, byteLength);
        for (long done = 0; done < byteLength;)
        {
            int chunk = (int)Math.Min(ChunkBytes, byteLength - done);
            stream.Write(new ReadOnlySpan<byte>(data + done, chunk));
            done += chunk;
        }
        GC.KeepAlive(source);
    }

    /// <summary>The first byte of a contiguous CPU tensor (valid while the tensor lives; keep it alive past native calls).</summary>
    internal static byte* Address(torch.Tensor tensor) => DataPointer(tensor, tensor.NumberOfElements * tensor.ElementSize);

    static byte* DataPointer(torch.Tensor tensor, long byteLength)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("tensor must be contiguous and on the CPU", nameof(tensor));
        if (tensor.NumberOfElements * tensor.ElementSize != byteLength)
            throw new ArgumentException($"tensor holds {tensor.NumberOfElements * tensor.ElementSize} bytes, not {byteLength}", nameof(tensor));
        if (byteLength == 0) return null;
        byte* data = (byte*)THSTensor_data(tensor.Handle);
        return data != null ? data : throw new InvalidOperationException("LibTorchSharp returned no data pointer for a non-empty tensor");
    }

    // TorchSharp keeps its binding internal; this is the same LibTorchSharp export (tensor.data_ptr(), storage offset included).
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);
}
