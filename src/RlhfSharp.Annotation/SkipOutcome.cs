namespace RlhfSharp.Annotation;

public enum SkipOutcome
{
    /// <summary>Released and recorded.</summary>
    Skipped,

    /// <summary>The item is not (or no longer) assigned to this annotator.</summary>
    NotAssigned,

    /// <summary>The annotator has already judged it.</summary>
    AlreadyJudged,
}
