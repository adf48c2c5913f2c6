using System.Globalization;
using CsvHelper;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>Reads labelled toxicity data from CSV (RFC 4180: quoted fields may hold commas, quotes and line breaks).</summary>
public static class LabelledTextReader
{
    /// <summary>Reads <paramref name="path"/> with the given layout, or the known layout its header matches when null.</summary>
    public static List<LabelledText> ReadCsv(string path, CsvLabelLayout? layout = null)
    {
        string[] header = ReadHeader(path);
        layout ??= CsvLabelLayout.Detect(header)
            ?? throw new RlhfException($"{path}: unknown layout (columns {string.Join(", ", header)}); give --text-column, --label-column and --positive");
        int text = ColumnIndex(path, header, layout.TextColumn), label = ColumnIndex(path, header, layout.LabelColumn);
        int group = layout.GroupColumn is { } groupColumn ? Array.IndexOf(header, groupColumn) : -1;
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        csv.Read(); // the header

        var rows = new List<LabelledText>();
        try
        {
            while (csv.Read())
            {
                string? value = csv.GetField(label);
                if (string.IsNullOrWhiteSpace(value)) throw new RlhfException($"{path}: record {csv.Parser.Row - 1}: empty {layout.LabelColumn}");
                rows.Add(new LabelledText(csv.GetField(text) ?? "", layout.IsPositive(value), group >= 0 ? csv.GetField(group) : null));
            }
        }
        catch (CsvHelperException e)
        {
            throw new RlhfException($"{path}: malformed CSV near line {csv.Parser.RawRow}: {e.Message.Split('\n')[0]}", e);
        }
        return rows;
    }

    /// <summary>The column names on the first record.</summary>
    public static string[] ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: file not found");
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        return csv.Read() && csv.ReadHeader() ? csv.HeaderRecord! : throw new RlhfException($"{path}: empty CSV");
    }

    public static List<LabelledText> ReadCsv(string path, string textColumn, string labelColumn, IReadOnlyList<string> positiveValues) =>
        ReadCsv(path, new CsvLabelLayout(textColumn, labelColumn, positiveValues));

    static int ColumnIndex(string path, string[] header, string column)
    {
        int index = Array.IndexOf(header, column);
        return index >= 0 ? index : throw new RlhfException($"{path}: no column '{column}' (columns {string.Join(", ", header)})");
    }
}
