namespace RlhfSharp.Annotation;

/// <summary>What starting the server did to the study's stored judging guidelines.</summary>
public enum GuidelinesChange
{
    /// <summary>None given and none stored.</summary>
    None,

    /// <summary>None given: the stored ones stay.</summary>
    Kept,

    /// <summary>Given for the first time.</summary>
    Stored,

    /// <summary>Given, the same text as stored.</summary>
    Unchanged,

    /// <summary>Given, replacing different stored ones.</summary>
    Replaced,
}
