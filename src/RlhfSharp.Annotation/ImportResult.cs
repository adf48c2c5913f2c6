namespace RlhfSharp.Annotation;

/// <summary>
/// An import of comparisons: how many were new, how many were already there, and the seed that drew the new items'
/// left/right order (recorded in the database too).
/// </summary>
public sealed record ImportResult(int Added, int AlreadyPresent, int Seed);
