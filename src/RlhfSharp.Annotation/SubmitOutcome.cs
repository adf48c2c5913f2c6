namespace RlhfSharp.Annotation;

public enum SubmitOutcome
{
    /// <summary>A new judgment was stored.</summary>
    Stored,

    /// <summary>This submission was stored before; nothing changed.</summary>
    Repeated,

    /// <summary>The item is unknown or not assigned to this annotator.</summary>
    NotAssigned,

    /// <summary>The annotator already judged the item in another submission.</summary>
    Conflict,

    /// <summary>The annotator used this submission id before for a different judgment (another item, choice, criterion or note).</summary>
    SubmissionIdReused,

    /// <summary>The submission id belongs to another annotator's judgment.</summary>
    SubmissionIdOfAnotherJudge,
}
