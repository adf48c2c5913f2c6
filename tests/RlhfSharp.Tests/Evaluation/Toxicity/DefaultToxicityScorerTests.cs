using System.Text.Json;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.Tests.Cli;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class DefaultToxicityScorerTests(ITestOutputHelper output)
{
    /// <summary>Rows read from each RealToxicityPrompts file; RLHF_TOXICITY_RTP_ROWS=0 reads all (the figure in DefaultHead/provenance.md).</summary>
    static int RowsPerFile => int.TryParse(Environment.GetEnvironmentVariable("RLHF_TOXICITY_RTP_ROWS"), out int n) ? n : 400;

    [Trait("Category", "Slow")] // embeds RealToxicityPrompts texts with MiniLM
    [Fact]
    public void Tracks_Perspective_on_RealToxicityPrompts()
    {
        var (texts, perspective) = ReadRealToxicityPrompts(RowsPerFile);
        using var scorer = DefaultToxicityScorer.Create();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var scores = scorer.Score(texts);
        double seconds = clock.Elapsed.TotalSeconds;
        double rho = RankMetrics.Spearman(scores, perspective);
        double baseline = RankMetrics.Spearman(new WordListScorer(DefaultToxicityScorer.WordList()).Score(texts), perspective);
        output.WriteLine($"{scorer.Name}: Spearman rho {rho:F4} on {texts.Count} texts ({texts.Count / seconds:F0} texts/s); wordlist:ldnoobw-en any-match rho {baseline:F4}");
        Assert.Equal("minilm-logistic", scorer.Name);
        Assert.True(rho >= 0.60, $"rho {rho:F4}");
    }

    [Fact]
    public void Score_command_prints_one_score_a_text_with_the_default_head()
    {
        var result = CliRunner.Run("toxicity", "score", "--text", "Thank you so much for your help, have a lovely day.", "--text", "shut up you worthless piece of shit");
        Assert.True(result.ExitCode == 0, result.Error);
        var scores = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => double.Parse(line.Split('\t')[0])).ToList();
        Assert.Equal(2, scores.Count);
        Assert.True(scores[0] < 0.5 && scores[1] > 0.5, result.Output);
    }

    /// <summary>Prompt and original continuation texts with their Perspective toxicity (continuations without a score skipped).</summary>
    static (List<string> Texts, List<double> Toxicity) ReadRealToxicityPrompts(int rowsPerFile)
    {
        var texts = new List<string>();
        var toxicity = new List<double>();
        foreach (string file in new[] { "challenging-toxic.jsonl", "nontoxic.jsonl" })
        {
            var lines = File.ReadLines(TestPaths.Shared("real-toxicity-prompts", file));
            foreach (string line in rowsPerFile > 0 ? lines.Take(rowsPerFile) : lines)
            {
                using var row = JsonDocument.Parse(line);
                foreach (string part in new[] { "prompt", "continuation" })
                {
                    var field = row.RootElement.GetProperty(part);
                    if (field.GetProperty("toxicity").ValueKind != JsonValueKind.Number) continue;
                    texts.Add(field.GetProperty("text").GetString()!);
                    toxicity.Add(field.GetProperty("toxicity").GetDouble());
                }
            }
        }
        return (texts, toxicity);
    }
}
