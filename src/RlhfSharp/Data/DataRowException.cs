namespace RlhfSharp.Data;

/// <summary>
/// A row of a data file that cannot be used ("file:line: why"), when bad rows are not skipped; the CLI adds how
/// to skip them where the command can (--skip-bad-rows).
/// </summary>
public sealed class DataRowException(string message, Exception? inner = null) : RlhfException(message, inner);
