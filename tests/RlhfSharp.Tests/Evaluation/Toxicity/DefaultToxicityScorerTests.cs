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
        Assert.Equal("minilm-mlp", scorer.Name);
        // A regression check, not the held-out figure: the shipped head trained on a seeded half of these files' rows
        // (provenance.md: Spearman 0.8344 on the other half; the head before, which never saw them, 0.7623 on all).
        Assert.True(rho >= 0.75, $"rho {rho:F4}");
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

    [Fact]
    public void Blank_text_scores_zero_and_a_short_text_scores_as_one_whole_window()
    {
        const string text = "shut up you worthless piece of shit";
        using var scorer = DefaultToxicityScorer.Create();
        var scores = scorer.Score(["", " \n\t", text]);
        Assert.Equal(0, scores[0]);
        Assert.Equal(0, scores[1]);
        // What the head makes of the whole text's features, as before windows existed.
        using var embedder = new MiniLmEmbedder();
        Assert.Equal(DefaultToxicityScorer.Head().Score(ToxicityFeatures.Build([text], embedder, DefaultToxicityScorer.WordList())[0]), scores[2]);
    }

    [Fact]
    public void An_insult_after_a_page_of_pleasantries_scores_like_the_insult_alone()
    {
        const string insult = "Shut up, you worthless piece of shit.";
        string text = string.Concat(Enumerable.Repeat("Have a lovely day. ", 300)) + insult; // 1500 word pieces of pleasantries first
        using var scorer = DefaultToxicityScorer.Create();
        var scores = scorer.Score([insult, text]);
        output.WriteLine($"insult alone {scores[0]:F4}, after 300 pleasantries {scores[1]:F4}");
        Assert.True(scores[0] > 0.5, $"{scores[0]}");
        Assert.Equal(scores[0], scores[1], 1e-6);
    }

    /// <summary>Prompt and original continuation texts with their Perspective toxicity (those without a score skipped).</summary>
    static (List<string> Texts, List<double> Toxicity) ReadRealToxicityPrompts(int rowsPerFile)
    {
        var sets = new[] { "challenging-toxic.jsonl", "nontoxic.jsonl" }
            .Select(file => PerspectiveScoredTexts.Read(TestPaths.Shared("real-toxicity-prompts", file), rowsPerFile)).ToList();
        return ([.. sets.SelectMany(s => s.Texts)], [.. sets.SelectMany(s => s.Toxicity)]);
    }
}
