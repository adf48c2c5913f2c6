namespace RlhfSharp.Annotation;

/// <summary>One annotator's counts for the admin: judged, and assigned in all (judged or open).</summary>
public sealed record AnnotatorProgress(string Name, bool IsAdmin, int Judged, int Assigned);
