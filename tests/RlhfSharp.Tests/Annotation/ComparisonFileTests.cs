using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Annotation;

public sealed class ComparisonFileTests : IDisposable
{
    readonly string _directory = TestPaths.NewTempDirectory("rlhf-comparisons");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string WriteLines(params string[] lines)
    {
        string path = Path.Combine(_directory, "c.jsonl");
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    static string Row(string? id = null) =>
        (id is null ? "{" : $"{{\"id\":{id},") + "\"prompt\":\"p\",\"response_a\":\"a\",\"response_b\":\"b\",\"model_a\":\"m1\",\"model_b\":\"m2\"}";

    [Fact]
    public void Write_then_read_round_trips_with_snake_case_fields()
    {
        string path = Path.Combine(_directory, "out.jsonl");
        var comparisons = new[] { new Comparison("x", "\n\nHuman: hi \"you\"\n\nAssistant:", " a\nb", "<b>", "m1", "m2"), new Comparison("y", "p", "1", "2", "m2", "m1") };
        ComparisonFile.Write(path, comparisons);
        Assert.Contains("\"response_a\":", File.ReadAllText(path));
        Assert.Contains("\"model_b\":", File.ReadAllText(path));
        Assert.Equal(comparisons, ComparisonFile.Read(path));
    }

    [Fact]
    public void A_missing_id_is_the_line_number_and_numeric_ids_keep_their_digits()
    {
        var read = ComparisonFile.Read(WriteLines(Row(), "", Row("42"), Row("\"z\"")));
        Assert.Equal(["1", "42", "z"], read.Select(c => c.Id));
    }

    [Theory]
    [InlineData("{not json", ":2: malformed JSON")]
    [InlineData("[1]", ":2: expected a JSON object")]
    [InlineData("{\"prompt\":\"p\",\"response_a\":\"a\",\"model_a\":\"m1\",\"model_b\":\"m2\"}", ":2: missing \"response_b\"")]
    [InlineData("{\"prompt\":1,\"response_a\":\"a\",\"response_b\":\"b\",\"model_a\":\"m1\",\"model_b\":\"m2\"}", ":2: \"prompt\" must be a string")]
    [InlineData("{\"id\":\"a\",\"prompt\":\"p\",\"response_a\":\"a\",\"response_b\":\"b\",\"model_a\":\"m1\",\"model_b\":\"m2\"}", ":2: duplicate id \"a\" (first on line 1)")]
    public void A_bad_row_fails_with_file_and_line(string badRow, string expected)
    {
        string path = WriteLines(Row("\"a\""), badRow);
        var error = Assert.ThrowsAny<RlhfException>(() => ComparisonFile.Read(path));
        Assert.StartsWith(path + expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_missing_file_is_a_user_error() =>
        Assert.Contains("no such file", Assert.ThrowsAny<RlhfException>(() => ComparisonFile.Read(Path.Combine(_directory, "none.jsonl"))).Message);
}
