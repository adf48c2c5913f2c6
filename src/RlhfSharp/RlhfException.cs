namespace RlhfSharp;

/// <summary>
/// An error caused by the user's input (a file, a field, an option), with a one-line message that names
/// what is wrong and where. The CLI prints the message alone and exits non-zero; anything else is a bug.
/// </summary>
public class RlhfException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A model directory or checkpoint file that cannot be loaded as asked.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : RlhfException(message, inner);
