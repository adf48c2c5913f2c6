using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Parquet.Serialization;
using RlhfSharp.Data;

namespace RlhfSharp.Tests.Data;

/// <summary>Rows marked "tie": true (annotate export --ties keep) are no preference: the reader leaves them out and counts them.</summary>
public sealed class PreferenceTieTests : IDisposable
{
    readonly DataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    static JsonObject Row(string prompt, string chosen, string rejected, JsonNode? tie = null)
    {
        var row = new JsonObject { ["prompt"] = prompt, ["chosen"] = chosen, ["rejected"] = rejected };
        if (tie is not null) row["tie"] = tie;
        return row;
    }

    [Fact]
    public void Tie_rows_are_left_out_and_counted_and_tie_false_is_a_preference()
    {
        string path = _folder.WriteJsonLines("prefs.jsonl",
            Row("\n\nHuman: a?\n\nAssistant:", " yes", " no"),
            Row("\n\nHuman: b?\n\nAssistant:", " one", " other", tie: true),
            Row("\n\nHuman: c?\n\nAssistant:", " good", " bad", tie: false),
            Row("\n\nHuman: d?\n\nAssistant:", " this", " that", tie: true));

        var result = DatasetReader.ReadPreferences(path);

        Assert.Equal(["\n\nHuman: a?\n\nAssistant:", "\n\nHuman: c?\n\nAssistant:"], result.Examples.Select(p => p.Prompt));
        Assert.Equal((0, 2), (result.SkippedRows, result.SkippedTies));
    }

    [Fact]
    public void Hh_dialogue_rows_can_be_marked_as_ties_too()
    {
        string path = _folder.WriteJsonLines("hh.jsonl",
            new JsonObject { ["chosen"] = "\n\nHuman: hi\n\nAssistant: hello", ["rejected"] = "\n\nHuman: hi\n\nAssistant: hey", ["tie"] = true },
            new JsonObject { ["chosen"] = "\n\nHuman: yo\n\nAssistant: hello", ["rejected"] = "\n\nHuman: yo\n\nAssistant: go" });
        var result = DatasetReader.ReadPreferences(path);
        Assert.Equal(new PreferencePair("\n\nHuman: yo\n\nAssistant:", " hello", " go"), Assert.Single(result.Examples));
        Assert.Equal(1, result.SkippedTies);
    }

    [Fact]
    public void A_tie_field_that_is_not_true_or_false_is_a_bad_row()
    {
        string path = _folder.WriteJsonLines("prefs.jsonl",
            Row("\n\nHuman: a?\n\nAssistant:", " yes", " no"),
            Row("\n\nHuman: b?\n\nAssistant:", " one", " other", tie: "yes"));
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadPreferences(path));
        Assert.Equal($"{path}:2: field \"tie\" is not true or false", error.Message);
    }

    [Fact]
    public void A_file_of_ties_only_has_no_usable_rows_and_says_why()
    {
        string path = _folder.WriteJsonLines("ties.jsonl", Row("\n\nHuman: b?\n\nAssistant:", " one", " other", tie: true));
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadPreferences(path));
        Assert.Equal($"{path}: no usable rows (0 bad rows skipped, 1 ties left out)", error.Message);
    }

    sealed class TieRow
    {
        [JsonPropertyName("prompt")] public string? Prompt { get; set; }
        [JsonPropertyName("chosen")] public string? Chosen { get; set; }
        [JsonPropertyName("rejected")] public string? Rejected { get; set; }
        [JsonPropertyName("tie")] public bool? Tie { get; set; }
    }

    [Fact]
    public async Task A_parquet_bool_tie_column_marks_ties()
    {
        string path = _folder.At("prefs.parquet");
        await ParquetSerializer.SerializeAsync(new[]
        {
            new TieRow { Prompt = "\n\nHuman: a?\n\nAssistant:", Chosen = " yes", Rejected = " no", Tie = false },
            new TieRow { Prompt = "\n\nHuman: b?\n\nAssistant:", Chosen = " one", Rejected = " other", Tie = true },
            new TieRow { Prompt = "\n\nHuman: c?\n\nAssistant:", Chosen = " good", Rejected = " bad", Tie = null },
        }, path);
        var result = DatasetReader.ReadPreferences(path);
        Assert.Equal([" yes", " good"], result.Examples.Select(p => p.Chosen));
        Assert.Equal(1, result.SkippedTies);
    }
}
