namespace RlhfSharp.Data;

/// <summary>
/// The examples read from a data file or folder, in file order, how many bad rows were skipped, and how many
/// preference rows marked "tie": true were left out (a tie prefers neither response; always 0 for other data).
/// </summary>
public sealed record DatasetReadResult<T>(IReadOnlyList<T> Examples, int SkippedRows, int SkippedTies = 0);
