namespace RlhfSharp.Annotation;

public enum UndoOutcome
{
    /// <summary>The judgment is deleted; the item is open to the same judge again.</summary>
    Undone,

    /// <summary>No judgment of this annotator has that id.</summary>
    NotFound,

    /// <summary>The annotator has judged something since: only the last judgment can be undone.</summary>
    NotLast,

    /// <summary>The undo window has passed.</summary>
    TooLate,
}
