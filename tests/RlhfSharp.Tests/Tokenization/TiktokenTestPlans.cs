using System.Text.Json;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>tiktoken's expected encodings (SharpToken's TestPlans.txt): blocks of EncodingName / Sample / Encoded lines.</summary>
public static class TiktokenTestPlans
{
    public static string PlansFile => TestPaths.Shared("gpt2-tokenizer", "tiktoken-testplans.txt");

    /// <summary>The blocks for one encoding, in file order.</summary>
    public static List<(string Sample, int[] Expected)> Cases(string encodingName)
    {
        string[] lines = File.ReadAllLines(PlansFile);
        var cases = new List<(string, int[])>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i] != "EncodingName: " + encodingName) continue;
            string sample = Strip(lines[i + 1], "Sample: ");
            int[] expected = JsonSerializer.Deserialize<int[]>(Strip(lines[i + 2], "Encoded: "))!;
            cases.Add((sample, expected));
        }
        return cases;
    }

    /// <summary>
    /// Where <paramref name="tokenizer"/> differs from GPT-2's 67 r50k_base cases: its encoding of each sample, and the
    /// decoding of the expected ids back to the sample. Empty when it encodes and decodes every case as tiktoken does.
    /// </summary>
    public static List<string> Gpt2Failures(RlhfSharp.Tokenization.ITextTokenizer tokenizer)
    {
        var cases = Cases("r50k_base");
        Assert.Equal(67, cases.Count);
        var failures = new List<string>();
        foreach (var (sample, expected) in cases)
        {
            var ids = tokenizer.Encode(sample);
            if (!ids.SequenceEqual(expected)) failures.Add($"encode {sample}: got [{string.Join(", ", ids)}]");
            if (tokenizer.Decode(expected) is var decoded && decoded != sample) failures.Add($"decode {sample}: got {decoded}");
        }
        return failures;
    }

    static string Strip(string line, string prefix) =>
        line.StartsWith(prefix, StringComparison.Ordinal) ? line[prefix.Length..] : throw new FormatException($"expected '{prefix}...', got '{line}'");
}
