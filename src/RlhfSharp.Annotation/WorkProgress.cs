namespace RlhfSharp.Annotation;

/// <summary>
/// One annotator's progress: items judged, of the total they can judge now (judged, assigned to them, and still
/// open to them). The total shrinks as others take items.
/// </summary>
public sealed record WorkProgress(int Judged, int Total);
