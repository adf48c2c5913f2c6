namespace RlhfSharp.Models.Checkpoints;

/// <summary>The parsed, validated header of a safetensors file: tensors in file order and the __metadata__ map.</summary>
internal sealed record SafetensorsHeader(
    IReadOnlyDictionary<string, SafetensorsEntry> Tensors,
    IReadOnlyDictionary<string, string> Metadata);
