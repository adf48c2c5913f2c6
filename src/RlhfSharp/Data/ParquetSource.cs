using Parquet;
using Parquet.Meta.Proto;
using Parquet.Schema;

namespace RlhfSharp.Data;

/// <summary>
/// Streams the rows of a Parquet file one row group at a time. Only flat string columns (a layout's fields) and
/// bool columns (a "tie" flag) are read; rows are numbered from 1 across the file. Parquet.Net is async-only; its calls are awaited
/// synchronously here, which is safe because the readers run without a synchronization context.
/// </summary>
internal static class ParquetSource
{
    // Some writers store text as plain byte arrays without the UTF-8 annotation.
    static readonly ParquetOptions ReadAsText = new() { TreatByteArrayAsString = true };

    public static IEnumerable<DataRow> Read(string path)
    {
        using var file = File.OpenRead(path);
        var reader = Guard(path, () => ParquetReader.CreateAsync(file, ReadAsText).GetAwaiter().GetResult());
        try
        {
            foreach (var row in Rows(path, reader)) yield return row;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    static IEnumerable<DataRow> Rows(string path, ParquetReader reader)
    {
        var columns = reader.Schema.Fields.OfType<DataField>()
            .Where(f => !f.IsArray && (f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>) || f.ClrType == typeof(bool)))
            .ToList();

        long rowNumber = 0;
        for (int group = 0; group < reader.RowGroupCount; group++)
        {
            var values = Guard(path, () => ReadRowGroup(reader, group, columns));
            for (int row = 0; row < values.RowCount; row++)
            {
                var fields = new Dictionary<string, object?>();
                foreach (var (name, column) in values.Columns) fields[name] = column(row);
                yield return DataRow.Readable($"{path}:row {++rowNumber}", fields);
            }
        }
    }

    sealed record RowGroupValues(int RowCount, List<(string Name, Func<int, object?> Value)> Columns);

    static RowGroupValues ReadRowGroup(ParquetReader reader, int group, List<DataField> columns)
    {
        using var rowGroup = reader.OpenRowGroupReader(group);
        int rowCount = checked((int)rowGroup.RowCount);
        var result = new RowGroupValues(rowCount, []);
        foreach (var column in columns)
        {
            if (column.ClrType == typeof(bool))
            {
                var flags = new bool?[rowCount];
                rowGroup.ReadAsync(column, flags.AsMemory()).AsTask().GetAwaiter().GetResult();
                result.Columns.Add((column.Name, row => flags[row]));
                continue;
            }
            var values = new string?[rowCount];
            rowGroup.ReadAsync(column, values.AsMemory()).AsTask().GetAwaiter().GetResult();
            result.Columns.Add((column.Name, row => values[row]));
        }
        return result;
    }

    /// <summary>
    /// Runs a Parquet.Net call; the exception types it was seen to throw on damaged files become one-line user errors.
    /// (Some damaged footers make Parquet.Net 6.1 loop forever instead; nothing here can catch that.)
    /// </summary>
    static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or NotSupportedException
            or ArgumentException or OverflowException or IndexOutOfRangeException or ParquetException or ThriftProtocolException)
        {
            throw new RlhfException($"{path}: not a readable Parquet file ({e.Message.ReplaceLineEndings(" ")})", e);
        }
    }
}
