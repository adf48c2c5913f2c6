namespace RlhfSharp.Annotation;

/// <summary>
/// One annotator's counts for the admin: judged, assigned in all (judged or open), open (assigned, not judged: what a
/// release hands back) and skipped.
/// </summary>
public sealed record AnnotatorProgress(string Name, bool IsAdmin, int Judged, int Assigned, int Open, int Skipped);
