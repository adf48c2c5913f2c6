namespace RlhfSharp.Annotation;

/// <summary>Everything the admin page shows.</summary>
public sealed record AnnotationProgress(
    IReadOnlyList<AnnotatorProgress> Annotators, IReadOnlyList<ItemProgress> Items, IReadOnlyList<ModelPairResult> Results);
