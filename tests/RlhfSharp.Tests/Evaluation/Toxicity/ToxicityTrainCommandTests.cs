using System.Globalization;
using System.Text.RegularExpressions;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class ToxicityTrainCommandTests
{
    [Trait("Category", "Slow")] // embeds and trains on 2100 texts
    [Fact]
    public void Trains_on_a_subset_of_Davidson_and_Surge_to_good_held_out_Auc()
    {
        string davidson = TestPaths.Shared("toxicity", "davidson-labeled_data.csv"), surge = TestPaths.Shared("toxicity", "surge-toxicity_en.csv");
        string outDir = TestPaths.NewTempDirectory();
        // Surge is given its layout explicitly, Davidson is recognised: both ways must work.
        var result = CliRunner.Run("toxicity", "train", "--data", davidson, "--data", surge, "--max-rows", "1500", "--max-rows", "600",
            "--text-column", "tweet", "--text-column", "text", "--label-column", "class", "--label-column", "is_toxic",
            "--positive", "0,1", "--positive", "Toxic", "--seed", "1", "--out", outDir);
        Assert.True(result.ExitCode == 0, result.Error);

        foreach (string dataset in new[] { "davidson-labeled_data", "surge-toxicity_en", "pooled" })
        {
            var match = Regex.Match(result.Output, $@"heldout_auc {dataset} ([0-9.]+)");
            Assert.True(match.Success, result.Output);
            Assert.True(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= 0.80, result.Output);
        }
        Assert.Contains("chosen ", result.Output);

        var head = ToxicityHead.Load(Path.Combine(outDir, ToxicityHead.FileName));
        Assert.Equal("ldnoobw-en", head.WordList);
        Assert.Contains("--max-rows 1500", head.Provenance["command"]);
        string provenance = File.ReadAllText(Path.Combine(outDir, ToxicityTrainingReport.FileName));
        Assert.Contains("rlhf toxicity train --data", provenance);
        Assert.Contains("surge-toxicity_en.csv sha256:", provenance);
    }

    [Fact]
    public void Too_few_rows_of_a_label_is_a_one_line_error_naming_the_counts()
    {
        // Davidson's first three rows: class 2 (neither), 1, 1; class 0 and 1 are toxic: 2 toxic, 1 non-toxic.
        string dir = TestPaths.NewTempDirectory();
        string tiny = Path.Combine(dir, "tiny.csv");
        File.WriteAllLines(tiny, File.ReadLines(TestPaths.Shared("toxicity", "davidson-labeled_data.csv")).Take(4));
        string outDir = Path.Combine(dir, "out");
        var result = CliRunner.Run("toxicity", "train", "--data", tiny, "--out", outDir);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: tiny: too few rows to hold out 0.2 of each label and train on the rest (2 toxic, 1 non-toxic); give more rows of each label",
            result.Error.TrimEnd());
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Held_out_splits_that_fit_but_too_few_rows_left_for_validation_is_a_one_line_error()
    {
        // 5 of each label: 1 of each held out (round(5 x 0.2)), 4 of each left; validation takes round(4 x 0.15) = 1 of each,
        // which fits. 3 of each: held out round(0.6) = 1, left 2 each, validation round(0.3) = 0: refused.
        var rows = (int n) => Enumerable.Range(0, 2 * n).Select(i => new LabelledText($"text {i}", i % 2 == 0)).ToList();
        ToxicityTrainingData.Require([new ToxicityDataset("five", rows(5))], 0.2, 0.15);
        var error = Assert.Throws<RlhfException>(() => ToxicityTrainingData.Require([new ToxicityDataset("three", rows(3))], 0.2, 0.15));
        Assert.Equal("too few training rows to choose a head on a validation share of 0.15 of each label (2 toxic, 2 non-toxic after holding out); "
            + "give more rows of each label", error.Message);
    }

    [Trait("Category", "Slow")] // embeds and trains on about 2,400 texts, 5 extra folds
    [Fact]
    public void ToxiGen_with_the_built_in_statements_reports_identity_bias_hate_without_swear_words_and_Perspective_agreement()
    {
        string outDir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("toxicity", "train", "--data", TestPaths.Shared("toxicity", "davidson-labeled_data.csv"), "--data",
            TestPaths.Shared("toxicity", "toxigen-statements.csv"), "--max-rows", "1000", "--max-rows", "0", "--built-in-statements",
            "--perspective-data", TestPaths.Shared("real-toxicity-prompts", "nontoxic.jsonl"), "--train-on-perspective", "--seed", "2", "--out", outDir);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        var auc = Regex.Match(result.Output, @"heldout_auc toxigen-statements ([0-9.]+)");
        Assert.True(double.Parse(auc.Groups[1].Value, CultureInfo.InvariantCulture) >= 0.85, result.Output);
        // The checks read every ToxiGen statement out of fold: 297 neutral ones over the groups, 358 hateful ones without a word-list term.
        Assert.Matches(@"identity bias \(mean out-of-fold score of each group's neutral statements\): asian 0\.\d{3}, bisexual", result.Output);
        Assert.Matches(@"identity_bias_spread [0-9.]+ \(groups with at least 5 statements\); shuffled groups: median 0\.\d{4}, 95th percentile 0\.\d{4}, p = [01]\.\d{3}", result.Output);
        var hate = Regex.Match(result.Output, @"hate without swear words: 358 statements scored out of fold, mean score ([0-9.]+)");
        Assert.True(hate.Success && double.Parse(hate.Groups[1].Value, CultureInfo.InvariantCulture) > 0.5, result.Output);
        // Half the RealToxicityPrompts rows trained (a dataset of their own, with its held-out share); the other half checks.
        Assert.Matches(@"heldout_auc nontoxic-perspective-labels 0\.\d{4}", result.Output);
        var check = Regex.Match(result.Output, @"perspective nontoxic: (\d+) texts, Spearman 0\.\d{4}; above 0\.5: this head [0-9.]+ %, Perspective [0-9.]+ %");
        Assert.True(check.Success, result.Output);
        Assert.InRange(int.Parse(check.Groups[1].Value, CultureInfo.InvariantCulture), 1100, 1300); // of 2,393 texts in 1,200 rows
        string provenance = File.ReadAllText(Path.Combine(outDir, ToxicityTrainingReport.FileName));
        Assert.Contains("## Identity-term bias", provenance);
        Assert.Contains("## Against Perspective", provenance);
        Assert.Contains("nontoxic.jsonl sha256:", provenance);
        Assert.Matches(@"shuffles\) spread 0\.\d{3} \(median\)", provenance);
        var head = ToxicityHead.Load(Path.Combine(outDir, ToxicityHead.FileName));
        Assert.True(head.Metrics.ContainsKey("identity_bias_spread") && head.Metrics.ContainsKey("perspective_spearman:nontoxic"));
    }

    [Fact]
    public void Training_on_Perspective_needs_Perspective_data()
    {
        var result = CliRunner.Run("toxicity", "train", "--data", TestPaths.Shared("toxicity", "davidson-labeled_data.csv"), "--train-on-perspective",
            "--out", TestPaths.NewTempDirectory());
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: --train-on-perspective needs --perspective-data", result.Error);
    }

    [Fact]
    public void Per_file_options_must_match_the_data_count()
    {
        string davidson = TestPaths.Shared("toxicity", "davidson-labeled_data.csv");
        var result = CliRunner.Run("toxicity", "train", "--data", davidson, "--positive", "0", "--positive", "1", "--out", TestPaths.NewTempDirectory());
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: --positive: give it once, or once per --data (1)", result.Error);
    }
}
