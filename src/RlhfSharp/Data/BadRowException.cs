namespace RlhfSharp.Data;

/// <summary>
/// Why one row cannot be used; <see cref="DatasetReader"/> adds the row's location and either skips the row or
/// rethrows it as an <see cref="RlhfException"/>. Never leaves this namespace.
/// </summary>
internal sealed class BadRowException(string message) : Exception(message);

/// <summary>
/// A row of a data file that cannot be used ("file:line: why"), when bad rows are not skipped; the CLI adds how
/// to skip them where the command can (--skip-bad-rows).
/// </summary>
public sealed class DataRowException(string message, Exception? inner = null) : RlhfException(message, inner);
