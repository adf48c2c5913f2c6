using TorchSharp;

namespace RlhfSharp.Models.Checkpoints;

/// <summary>The safetensors dtype names this reader supports and their TorchSharp equivalents.</summary>
internal static class SafetensorsDType
{
    public const string Supported = "F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL";

    public static torch.ScalarType? Parse(string name) => name switch
    {
        "F32" => torch.ScalarType.Float32,
        "F16" => torch.ScalarType.Float16,
        "BF16" => torch.ScalarType.BFloat16,
        "F64" => torch.ScalarType.Float64,
        "I64" => torch.ScalarType.Int64,
        "I32" => torch.ScalarType.Int32,
        "I16" => torch.ScalarType.Int16,
        "I8" => torch.ScalarType.Int8,
        "U8" => torch.ScalarType.Byte,
        "BOOL" => torch.ScalarType.Bool,
        _ => null,
    };

    public static string? NameOf(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => "F32",
        torch.ScalarType.Float16 => "F16",
        torch.ScalarType.BFloat16 => "BF16",
        torch.ScalarType.Float64 => "F64",
        torch.ScalarType.Int64 => "I64",
        torch.ScalarType.Int32 => "I32",
        torch.ScalarType.Int16 => "I16",
        torch.ScalarType.Int8 => "I8",
        torch.ScalarType.Byte => "U8",
        torch.ScalarType.Bool => "BOOL",
        _ => null,
    };

    /// <summary>Bytes per element of a supported type.</summary>
    public static int Size(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float64 or torch.ScalarType.Int64 => 8,
        torch.ScalarType.Float32 or torch.ScalarType.Int32 => 4,
        torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Int16 => 2,
        _ => 1,
    };

    public static bool IsFloating(torch.ScalarType type) =>
        type is torch.ScalarType.Float32 or torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Float64;
}
