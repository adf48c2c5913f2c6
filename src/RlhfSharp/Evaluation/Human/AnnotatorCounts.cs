namespace RlhfSharp.Evaluation.Human;

/// <summary>One annotator's judgments, counted by choice.</summary>
public sealed record AnnotatorCounts(string Annotator, ChoiceCounts Counts);
