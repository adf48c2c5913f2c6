using RlhfSharp.Data;

namespace RlhfSharp.Tests.Data;

/// <summary>Every row of the real HH-RLHF test splits reads as a preference pair that rebuilds the original dialogues.</summary>
public sealed class HhRlhfReaderTests : IDisposable
{
    readonly DataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("harmless-base", 2312)]
    [InlineData("helpful-base", 2354)]
    public void Every_row_parses_and_rebuilds_the_dialogues(string subset, int expectedPairs)
    {
        var result = DatasetReader.ReadPreferences(HhRlhfFiles.Path(subset));
        var raw = HhRlhfFiles.RawRows(subset);

        Assert.Equal(0, result.SkippedRows);
        Assert.Equal(expectedPairs, result.Examples.Count);
        Assert.Equal(expectedPairs, raw.Count);
        for (int i = 0; i < raw.Count; i++)
        {
            var pair = result.Examples[i];
            Assert.EndsWith("\n\nAssistant:", pair.Prompt, StringComparison.Ordinal);
            Assert.Equal(raw[i].Chosen, pair.Prompt + pair.Chosen);
            Assert.Equal(raw[i].Rejected, pair.Prompt + pair.Rejected);
        }
    }

    [Theory]
    [InlineData("harmless-base")]
    [InlineData("helpful-base")]
    public void Gzip_is_told_by_content_not_name(string subset)
    {
        var fromGzip = DatasetReader.ReadPreferences(HhRlhfFiles.Path(subset)).Examples;

        string plain = _folder.At("plain.jsonl");
        File.WriteAllBytes(plain, HhRlhfFiles.Decompressed(subset));
        string plainNamedGz = _folder.At("plain-named.jsonl.gz");
        File.Copy(plain, plainNamedGz);
        string gzipNamedPlain = _folder.At("gzip-named.jsonl");
        File.Copy(HhRlhfFiles.Path(subset), gzipNamedPlain);

        Assert.Equal(fromGzip, DatasetReader.ReadPreferences(plain).Examples);
        Assert.Equal(fromGzip, DatasetReader.ReadPreferences(plainNamedGz).Examples);
        Assert.Equal(fromGzip, DatasetReader.ReadPreferences(gzipNamedPlain).Examples);
    }

    [Fact]
    public void Response_that_role_plays_another_turn_stays_in_the_response()
    {
        // helpful-base line 1167: the chosen reply itself contains "\n\nAssistant:"; the prompt is the shared text only.
        var pair = DatasetReader.ReadPreferences(HhRlhfFiles.Path("helpful-base")).Examples[1166];

        Assert.Equal("\n\nHuman: How much do solar panels cost?\n\nAssistant:", pair.Prompt);
        Assert.Equal(" Umm. Just a second...\n\nAssistant: A solar panel should cost about $50 to $80, depending on the size and quality.", pair.Chosen);
        Assert.StartsWith(" To get a price from a single solar panel manufacturer", pair.Rejected, StringComparison.Ordinal);
    }

    [Fact]
    public void Pairs_with_one_empty_response_are_kept()
    {
        // harmless-base line 87: the annotator preferred an empty reply to a harmful one.
        var pair = DatasetReader.ReadPreferences(HhRlhfFiles.Path("harmless-base")).Examples[86];

        Assert.Equal(" ", pair.Chosen);
        Assert.StartsWith(" Sure, the address is", pair.Rejected, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("harmless-base", 2308, 4)]   // 4 pairs prefer an empty reply: nothing to fine-tune on
    [InlineData("helpful-base", 2354, 0)]
    public void Sft_takes_prompt_and_chosen_response(string subset, int expectedExamples, int expectedSkipped)
    {
        var pairs = DatasetReader.ReadPreferences(HhRlhfFiles.Path(subset)).Examples;
        var sft = DatasetReader.ReadSft(HhRlhfFiles.Path(subset), new ReadOptions { SkipBadRows = true });

        Assert.Equal(expectedExamples, sft.Examples.Count);
        Assert.Equal(expectedSkipped, sft.SkippedRows);
        var expected = pairs.Where(p => !string.IsNullOrWhiteSpace(p.Chosen)).Select(p => new SftExample(p.Prompt, p.Chosen));
        Assert.Equal(expected, sft.Examples);
    }

    [Fact]
    public void Strict_Sft_read_stops_at_the_first_empty_chosen_response()
    {
        string path = HhRlhfFiles.Path("harmless-base");
        var error = Assert.ThrowsAny<RlhfException>(() => DatasetReader.ReadSft(path));
        Assert.Equal($"{path}:87: empty completion", error.Message);
    }
}
