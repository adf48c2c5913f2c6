namespace RlhfSharp.Annotation;

/// <summary>What became of an undo; <see cref="Age"/> is how long ago the judgment was saved (set when it was found).</summary>
public sealed record UndoResult(UndoOutcome Outcome, long? ItemId = null, TimeSpan? Age = null);
