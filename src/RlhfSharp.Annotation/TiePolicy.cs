namespace RlhfSharp.Annotation;

/// <summary>What an export does with ties: leave them out, or write them marked "tie": true.</summary>
public enum TiePolicy { Drop, Keep }
