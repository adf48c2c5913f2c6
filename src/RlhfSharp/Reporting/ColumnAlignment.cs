namespace RlhfSharp.Reporting;

/// <summary>How a Markdown table aligns a column (an HTML page aligns by its style sheet).</summary>
public enum ColumnAlignment
{
    /// <summary>The renderer's default (left in common renderers).</summary>
    Default,

    /// <summary>Right-aligned, for numbers.</summary>
    Right,
}
