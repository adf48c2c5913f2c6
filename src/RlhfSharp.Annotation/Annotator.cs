namespace RlhfSharp.Annotation;

/// <summary>A person who judges comparisons; an admin may also watch progress.</summary>
public sealed record Annotator(long Id, string Name, bool IsAdmin);
