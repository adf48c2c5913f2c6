namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Where a labelled CSV keeps its text and label, and which label values mean toxic (compared
/// case-insensitively; any other value is not toxic), and optionally which column names the group a text is about.
/// </summary>
public sealed record CsvLabelLayout(string TextColumn, string LabelColumn, IReadOnlyList<string> PositiveValues, string? GroupColumn = null)
{
    /// <summary>Davidson et al. 2017: class 0 hate speech and 1 offensive are toxic, 2 neither.</summary>
    public static CsvLabelLayout Davidson { get; } = new("tweet", "class", ["0", "1"]);

    /// <summary>Surge AI toxicity: is_toxic is "Toxic" or "Not Toxic".</summary>
    public static CsvLabelLayout Surge { get; } = new("text", "is_toxic", ["Toxic"]);

    /// <summary>Jigsaw Toxic Comment Classification: toxic is 1 or 0.</summary>
    public static CsvLabelLayout Jigsaw { get; } = new("comment_text", "toxic", ["1"]);

    /// <summary>ToxiGen's human-written statements: label "hate" or "neutral", about one of 13 target groups.</summary>
    public static CsvLabelLayout ToxiGen { get; } = new("text", "label", ["hate"], "target_group");

    static readonly CsvLabelLayout[] Known = [Davidson, Surge, Jigsaw, ToxiGen];

    /// <summary>The known layout whose two columns the header has, if any.</summary>
    public static CsvLabelLayout? Detect(IReadOnlyList<string> header) =>
        Known.FirstOrDefault(k => header.Contains(k.TextColumn) && header.Contains(k.LabelColumn));

    public bool IsPositive(string label) => PositiveValues.Any(p => string.Equals(p.Trim(), label.Trim(), StringComparison.OrdinalIgnoreCase));
}
