using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class LabelledTextReaderTests
{
    [Fact]
    public void Quoted_fields_may_hold_line_breaks_commas_and_quotes()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "surge-like.csv");
        File.WriteAllText(path, "text,is_toxic\n\"first line\nsecond, \"\"quoted\"\" line\",Toxic\nplain,Not Toxic\n");
        var rows = LabelledTextReader.ReadCsv(path);
        Assert.Equal([new LabelledText("first line\nsecond, \"quoted\" line", true), new LabelledText("plain", false)], rows);
    }

    [Fact]
    public void Columns_and_positive_values_can_be_given()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "custom.csv");
        File.WriteAllText(path, "id,label,body\n1,0,hate\n2,1,offensive\n3,2,neither\n");
        var rows = LabelledTextReader.ReadCsv(path, "body", "label", ["0", "1"]);
        Assert.Equal([true, true, false], rows.Select(r => r.Toxic));
        var error = Assert.ThrowsAny<RlhfException>(() => LabelledTextReader.ReadCsv(path, "tweet", "label", ["0"]));
        Assert.Contains("no column 'tweet'", error.Message);
        Assert.ThrowsAny<RlhfException>(() => LabelledTextReader.ReadCsv(path)); // no known layout
    }

    [Fact]
    public void Reads_the_shared_datasets_with_their_known_layouts()
    {
        var surge = LabelledTextReader.ReadCsv(TestPaths.Shared("toxicity", "surge-toxicity_en.csv"));
        Assert.Equal(1000, surge.Count);
        Assert.Contains(surge, r => r.Text.Contains('\n'));
        Assert.InRange(surge.Count(r => r.Toxic), 400, 600);

        var davidson = LabelledTextReader.ReadCsv(TestPaths.Shared("toxicity", "davidson-labeled_data.csv"));
        Assert.Equal(24_783, davidson.Count);
        Assert.InRange(davidson.Count(r => r.Toxic), 20_000, 21_000); // hate + offensive, ~83%
    }
}
