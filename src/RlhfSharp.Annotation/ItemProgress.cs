namespace RlhfSharp.Annotation;

/// <summary>One item's counts for the admin, by its comparison id.</summary>
public sealed record ItemProgress(string ItemId, int Judgments, int OpenAssignments);
