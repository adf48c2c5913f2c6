namespace RlhfSharp.Annotation;

public enum SubmitOutcome
{
    /// <summary>A new judgment was stored.</summary>
    Stored,

    /// <summary>This submission was stored before; nothing changed.</summary>
    Repeated,

    /// <summary>The item is unknown or not assigned to this annotator.</summary>
    NotAssigned,

    /// <summary>The annotator already judged the item in another submission, or the submission id belongs to another judgment.</summary>
    Conflict,
}
