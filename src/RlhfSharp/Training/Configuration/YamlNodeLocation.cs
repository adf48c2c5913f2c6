namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Where a YAML node sits in its document: its dotted key path (<c>optimizer.lr</c>, <c>stops[1]</c>), whether
/// the node is a mapping key rather than a value, and whether that key already appeared in the same mapping.
/// </summary>
internal sealed record YamlNodeLocation(string Path, bool IsKey, bool IsRepeatedKey);
