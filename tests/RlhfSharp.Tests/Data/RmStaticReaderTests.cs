using System.Text.Json.Nodes;
using Parquet;
using Parquet.Serialization;
using RlhfSharp.Data;

namespace RlhfSharp.Tests.Data;

/// <summary>The Dahoas/rm-static layout (prompt, response, chosen, rejected) in Parquet files, folders and JSON Lines.</summary>
public sealed class RmStaticReaderTests : IDisposable
{
    readonly DataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    static readonly PreferencePair[] Pairs =
    [
        new("\n\nHuman: What is 2 + 2?\n\nAssistant:", " 4.", " 5."),
        new("\n\nHuman: Say hi in French.\n\nAssistant:", " Bonjour !", " Hola."),
        new("\n\nHuman: Ünïcödé and \"quotes\"?\n\nAssistant: Sure.\n\nHuman: And emoji?\n\nAssistant:", " 🙂 ok", " no"),
    ];

    // Row groups of 2 rows, so 3 rows span two groups.
    static readonly ParquetOptions SmallRowGroups = new() { RowGroupSize = 2 };

    async Task<string> WriteParquet(string name, IEnumerable<PreferencePair> pairs)
    {
        string path = _folder.At(name);
        await ParquetSerializer.SerializeAsync(pairs.Select(RmStaticRow.From), path, SmallRowGroups);
        return path;
    }

    [Fact]
    public async Task Parquet_file_reads_back()
    {
        string path = await WriteParquet("test.parquet", Pairs);
        await using (var reader = await ParquetReader.CreateAsync(path)) Assert.Equal(2, reader.RowGroupCount);

        var result = DatasetReader.ReadPreferences(path);

        Assert.Equal(Pairs, result.Examples);
        Assert.Equal(0, result.SkippedRows);
    }

    [Fact]
    public async Task Folder_of_Parquet_files_reads_in_name_order()
    {
        await WriteParquet("train-00001-of-00002.parquet", Pairs[2..]);   // written first, read second
        await WriteParquet("train-00000-of-00002.parquet", Pairs[..2]);
        _folder.WriteLines("README.md", "not data");

        Assert.Equal(Pairs, DatasetReader.ReadPreferences(_folder.Path).Examples);
    }

    [Fact]
    public async Task Parquet_is_told_by_content_not_name()
    {
        string path = await WriteParquet("data.bin", Pairs);
        Assert.Equal(Pairs, DatasetReader.ReadPreferences(path).Examples);
    }

    [Fact]
    public void Json_lines_read_back()
    {
        string path = _folder.WriteJsonLines("rm-static.jsonl", [.. Pairs.Select(p => new JsonObject
        {
            ["prompt"] = p.Prompt, ["response"] = p.Chosen, ["chosen"] = p.Chosen, ["rejected"] = p.Rejected,
        })]);

        Assert.Equal(Pairs, DatasetReader.ReadPreferences(path).Examples);
    }

    [Fact]
    public async Task Sft_takes_prompt_and_chosen()
    {
        string path = await WriteParquet("test.parquet", Pairs);

        var result = DatasetReader.ReadSft(path);

        Assert.Equal(Pairs.Select(p => new SftExample(p.Prompt, p.Chosen)), result.Examples);
    }

    [Fact]
    public async Task Null_cell_is_a_bad_row_numbered_by_row()
    {
        var rows = Pairs.Select(RmStaticRow.From).ToList();
        rows[2].Rejected = null;
        string path = _folder.At("nulls.parquet");
        await ParquetSerializer.SerializeAsync(rows, path, SmallRowGroups);

        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadPreferences(path));
        Assert.Equal($"{path}:row 3: missing field \"rejected\"", error.Message);

        var skipped = DatasetReader.ReadPreferences(path, new ReadOptions { SkipBadRows = true });
        Assert.Equal(Pairs[..2], skipped.Examples);
        Assert.Equal(1, skipped.SkippedRows);
    }

    [Fact]
    public void Garbage_after_Parquet_magic()
    {
        string path = _folder.At("bad.parquet");
        File.WriteAllBytes(path, [.. "PAR1"u8, 1, 2, 3, 4, 5, 6, 7, 8]);
        AssertUnreadable(path);
    }

    [Fact]
    public async Task Truncated_Parquet_file()
    {
        string path = await WriteParquet("cut.parquet", Pairs);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertUnreadable(path);
    }

    static void AssertUnreadable(string path)
    {
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadPreferences(path));
        Assert.StartsWith($"{path}: not a readable Parquet file", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Folder_without_Parquet_files()
    {
        _folder.WriteLines("data.jsonl", "{}");
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadPreferences(_folder.Path));
        Assert.Equal($"{_folder.Path}: folder holds no .parquet files", error.Message);
    }
}
