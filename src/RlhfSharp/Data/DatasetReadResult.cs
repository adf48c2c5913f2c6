namespace RlhfSharp.Data;

/// <summary>The examples read from a data file or folder, in file order, and how many bad rows were skipped.</summary>
public sealed record DatasetReadResult<T>(IReadOnlyList<T> Examples, int SkippedRows);
