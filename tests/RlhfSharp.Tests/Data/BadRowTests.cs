using RlhfSharp.Data;

namespace RlhfSharp.Tests.Data;

/// <summary>Bad rows fail with one-line "file:line: why" errors, or are counted and skipped; bad paths and layouts fail whole.</summary>
public sealed class BadRowTests : IDisposable
{
    readonly DataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    const string Good = """{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: Go away."}""";

    static void AssertError(Action read, string expected)
    {
        var error = Assert.ThrowsAny<RlhfException>(read);
        Assert.Equal(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("""{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": """, "malformed JSON (")]
    [InlineData("""[1, 2]""", "expected a JSON object, found Array")]
    [InlineData("""{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!"}""", "missing field \"rejected\"")]
    [InlineData("""{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": null}""", "missing field \"rejected\"")]
    [InlineData("""{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": 3}""", "field \"rejected\" is not a string")]
    [InlineData("""{"chosen": "\n\nHuman: Hi\n\nAssistant: ", "rejected": "\n\nHuman: Hi\n\nAssistant:\n"}""", "both responses are empty")]
    [InlineData("""{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Yo\n\nAssistant: Hello!"}""", "chosen and rejected share no \"\\n\\nAssistant:\" turn")]
    [InlineData("""{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How are you?\n\nAssistant: Fine.", "rejected": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Who are you?\n\nAssistant: A bot."}""", "chosen and rejected diverge before the final \"\\n\\nAssistant:\" turn")]
    public void Bad_Hh_row_is_reported_with_its_line(string badLine, string why)
    {
        // A blank line before it still counts: line numbers are the file's.
        string path = _folder.WriteLines("hh.jsonl", Good, "", badLine, Good);

        var error = Assert.Throws<DataRowException>(() => DatasetReader.ReadPreferences(path));
        Assert.StartsWith($"{path}:3: {why}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);

        var skipped = DatasetReader.ReadPreferences(path, new ReadOptions { SkipBadRows = true });
        Assert.Equal(2, skipped.Examples.Count);
        Assert.Equal(1, skipped.SkippedRows);
    }

    [Fact]
    public void Empty_prompt_and_empty_completion()
    {
        string path = _folder.WriteLines("sft.jsonl",
            """{"prompt": "a", "completion": " b"}""",
            """{"prompt": " \t", "completion": " b"}""",
            """{"prompt": "a", "completion": "  "}""");

        AssertError(() => DatasetReader.ReadSft(path), $"{path}:2: empty prompt");
        var skipped = DatasetReader.ReadSft(path, new ReadOptions { SkipBadRows = true });
        Assert.Equal([new SftExample("a", " b")], skipped.Examples);
        Assert.Equal(2, skipped.SkippedRows);
    }

    [Fact]
    public void Plain_text_documents_have_no_prompt_but_need_text()
    {
        string path = _folder.WriteLines("corpus.jsonl",
            """{"text": "\n\nHuman: Hi\n\nAssistant: Hello!"}""",
            """{"text": " "}""");

        AssertError(() => DatasetReader.ReadSft(path), $"{path}:2: empty completion");
        var read = DatasetReader.ReadSft(path, new ReadOptions { SkipBadRows = true });
        Assert.Equal([new SftExample("", "\n\nHuman: Hi\n\nAssistant: Hello!")], read.Examples);
    }

    [Fact]
    public void Empty_RmStatic_prompt()
    {
        string path = _folder.WriteLines("rm.jsonl", """{"prompt": "", "chosen": " a", "rejected": " b"}""");
        AssertError(() => DatasetReader.ReadPreferences(path), $"{path}:1: empty prompt");
    }

    [Fact]
    public void SkipBadRows_counts_every_bad_row()
    {
        string path = _folder.WriteLines("hh.jsonl",
            Good,
            "not json",
            """{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!"}""",
            Good,
            """{"chosen": "\n\nHuman: Hi\n\nAssistant: ", "rejected": "\n\nHuman: Hi\n\nAssistant: "}""",
            "{",
            Good);

        var result = DatasetReader.ReadPreferences(path, new ReadOptions { SkipBadRows = true });

        Assert.Equal(3, result.Examples.Count);
        Assert.Equal(4, result.SkippedRows);
    }

    [Fact]
    public void Bad_first_row_is_skipped_before_the_layout_is_known()
    {
        string path = _folder.WriteLines("hh.jsonl", "{oops", Good);
        var result = DatasetReader.ReadPreferences(path, new ReadOptions { SkipBadRows = true });
        Assert.Equal((1, 1), (result.Examples.Count, result.SkippedRows));
    }

    [Fact]
    public void Missing_file()
    {
        string path = _folder.At("nope.jsonl");
        AssertError(() => DatasetReader.ReadPreferences(path), $"data file not found: {path}");
        AssertError(() => DatasetReader.ReadSft(path), $"data file not found: {path}");
    }

    [Fact]
    public void Unknown_layout_names_the_fields_found()
    {
        string path = _folder.WriteLines("other.jsonl", """{"body": "hello", "label": 1}""");

        AssertError(() => DatasetReader.ReadPreferences(path, new ReadOptions { SkipBadRows = true }),
            $"{path}:1: unknown data layout, fields found: body, label; expected chosen + rejected (HH-RLHF) or prompt + chosen + rejected (rm-static)");
        AssertError(() => DatasetReader.ReadSft(path),
            $"{path}:1: unknown data layout, fields found: body, label; expected messages, prompt + completion, prompt + chosen (rm-static), chosen + rejected (HH-RLHF) or text");
    }

    [Fact]
    public void Prompt_completion_file_is_not_preference_data()
    {
        string path = _folder.WriteLines("sft.jsonl", """{"prompt": "a", "completion": "b"}""");
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadPreferences(path));
        Assert.Contains("fields found: prompt, completion", error.Message);
    }

    [Fact]
    public void File_with_no_usable_rows()
    {
        string empty = _folder.WriteLines("empty.jsonl");
        AssertError(() => DatasetReader.ReadSft(empty), $"{empty}: no usable rows (0 bad rows skipped)");

        string allBad = _folder.WriteLines("bad.jsonl", "{", "{");
        AssertError(() => DatasetReader.ReadSft(allBad, new ReadOptions { SkipBadRows = true }), $"{allBad}: no usable rows (2 bad rows skipped)");
    }

    [Fact]
    public void Corrupt_gzip()
    {
        string path = _folder.At("broken.jsonl.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadPreferences(path));
        Assert.StartsWith($"{path}: corrupt gzip data", error.Message, StringComparison.Ordinal);
    }
}
