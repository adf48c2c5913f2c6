using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace RlhfSharp.Models.Checkpoints;

internal static partial class SafetensorsFile
{
    /// <summary>
    /// Loads one tensor as a new CPU tensor of the entry's shape. Floating-point data is converted to
    /// <paramref name="convertTo"/> when given; integer and bool tensors keep their type.
    /// </summary>
    public static torch.Tensor LoadTensor(string path, SafetensorsEntry entry, torch.ScalarType? convertTo = null)
    {
        using SafeFileHandle file = OpenRead(path);
        long dataStart = CheckEntry(path, file, entry);
        torch.ScalarType stored = SafetensorsDType.Parse(entry.DType)!.Value;
        torch.Tensor tensor = torch.empty(entry.Shape, stored);
        try
        {
            ReadData(path, file, dataStart, entry, tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        if (convertTo is not { } target || target == stored || !SafetensorsDType.IsFloating(stored)) return tensor;
        using (tensor) return tensor.to_type(target);
    }

    /// <summary>
    /// Copies one tensor into <paramref name="destination"/>, whose shape must equal the entry's exactly (no
    /// broadcasting). Floating-point data is converted to the destination's floating type; other types must
    /// match. A contiguous CPU destination of the stored type is filled straight from the file.
    /// </summary>
    public static void LoadInto(string path, SafetensorsEntry entry, torch.Tensor destination)
    {
        if (!entry.Shape.SequenceEqual(destination.shape))
            throw TensorError(path, entry.Name, $"shape {FormatShape(entry.Shape)} does not match the destination's {FormatShape(destination.shape)}");
        using SafeFileHandle file = OpenRead(path);
        long dataStart = CheckEntry(path, file, entry);
        torch.ScalarType stored = SafetensorsDType.Parse(entry.DType)!.Value;
        if (stored != destination.dtype && !(SafetensorsDType.IsFloating(stored) && SafetensorsDType.IsFloating(destination.dtype)))
            throw TensorError(path, entry.Name, $"dtype {entry.DType} cannot be loaded into a {destination.dtype} tensor");

        if (stored == destination.dtype && destination.device_type == DeviceType.CPU && destination.is_contiguous())
        {
            ReadData(path, file, dataStart, entry, destination);
            return;
        }
        using torch.Tensor staged = torch.empty(entry.Shape, stored);
        ReadData(path, file, dataStart, entry, staged);
        using (torch.no_grad()) destination.copy_(staged); // converts dtype, device and layout in one pass
    }

    /// <summary>Re-validates an entry (it may come from another file or be hand-made) and returns the data start.</summary>
    static long CheckEntry(string path, SafeFileHandle file, SafetensorsEntry entry)
    {
        long dataStart = ReadDataStart(path, file);
        ValidateEntry(path, entry, RandomAccess.GetLength(file) - dataStart);
        return dataStart;
    }

    static void ReadData(string path, SafeFileHandle file, long dataStart, SafetensorsEntry entry, torch.Tensor destination)
    {
        if (!TensorMemory.TryRead(file, dataStart + entry.Begin, destination, entry.ByteLength))
            throw TensorError(path, entry.Name, "file ended while reading the data (truncated file?)");
    }
}
