namespace RlhfSharp.Data;

/// <summary>
/// Why one row cannot be used; <see cref="DatasetReader"/> adds the row's location and either skips the row or
/// rethrows it as a <see cref="DataRowException"/>. Never leaves this namespace.
/// </summary>
internal sealed class BadRowException(string message) : Exception(message);
