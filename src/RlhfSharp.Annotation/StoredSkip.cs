namespace RlhfSharp.Annotation;

/// <summary>A judge passed an item on to someone else.</summary>
public sealed record StoredSkip(string ExternalId, string Annotator, DateTimeOffset SkippedAt);
