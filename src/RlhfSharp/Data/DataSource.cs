namespace RlhfSharp.Data;

/// <summary>
/// The records at a path, with the format told by content rather than name: a folder is read as its *.parquet files in
/// ordinal name order (as the Hugging Face hub shards a split), a file starting with "PAR1" as Parquet, one starting with
/// the gzip magic bytes as gzip-compressed JSON Lines, anything else as plain JSON Lines.
/// </summary>
internal static class DataSource
{
    public static IEnumerable<DataRow> Rows(string path)
    {
        if (Directory.Exists(path))
        {
            var files = Directory.GetFiles(path, "*.parquet").Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new RlhfException($"{path}: folder holds no .parquet files");
            return files.SelectMany(ParquetSource.Read);
        }
        if (!File.Exists(path)) throw new RlhfException($"data file not found: {path}");
        var (parquet, gzip) = Format(path);
        return parquet ? ParquetSource.Read(path) : JsonLinesSource.Read(path, gzip);
    }

    /// <summary>
    /// The non-blank lines of a plain text file (plain or gzip-compressed), or null when the path is a folder, Parquet,
    /// missing, or JSON Lines: a file whose first non-blank line starts with '{' is JSON Lines.
    /// </summary>
    public static IReadOnlyList<string>? PlainTextLines(string path)
    {
        if (!File.Exists(path)) return null;
        var (parquet, gzip) = Format(path);
        if (parquet) return null;
        var lines = JsonLinesSource.Lines(path, gzip).Where(line => !string.IsNullOrWhiteSpace(line));
        string? first = lines.FirstOrDefault();
        return first is null || first.TrimStart().StartsWith('{') ? null : lines.ToList();
    }

    static (bool Parquet, bool Gzip) Format(string path)
    {
        Span<byte> head = stackalloc byte[4];
        int length;
        using (var file = File.OpenRead(path)) length = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return (length == 4 && head.SequenceEqual("PAR1"u8), length >= 2 && head[0] == 0x1f && head[1] == 0x8b);
    }
}
