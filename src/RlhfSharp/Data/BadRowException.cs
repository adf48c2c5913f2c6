namespace RlhfSharp.Data;

/// <summary>
/// Why one row cannot be used; <see cref="DatasetReader"/> adds the row's location and either skips the row or
/// rethrows it as an <see cref="RlhfException"/>. Never leaves this namespace.
/// </summary>
internal sealed class BadRowException(string message) : Exception(message);
