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

        Span<byte> head = stackalloc byte[4];
        int length;
        using (var file = File.OpenRead(path)) length = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (length == 4 && head.SequenceEqual("PAR1"u8)) return ParquetSource.Read(path);
        return JsonLinesSource.Read(path, gzip: length >= 2 && head[0] == 0x1f && head[1] == 0x8b);
    }
}
