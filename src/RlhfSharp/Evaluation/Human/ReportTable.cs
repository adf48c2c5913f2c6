namespace RlhfSharp.Evaluation.Human;

/// <summary>A table of plain-text cells, rendered by both the Markdown and the HTML writer (which escape them).</summary>
sealed record ReportTable(string? Title, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows);
