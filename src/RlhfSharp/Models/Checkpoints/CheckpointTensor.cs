namespace RlhfSharp.Models.Checkpoints;

/// <summary>Where a tensor of a model checkpoint lives: its safetensors file and header entry.</summary>
internal sealed record CheckpointTensor(string FilePath, SafetensorsEntry Entry);
