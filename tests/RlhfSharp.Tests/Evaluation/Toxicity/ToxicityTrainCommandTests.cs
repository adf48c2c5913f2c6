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
    public void Per_file_options_must_match_the_data_count()
    {
        string davidson = TestPaths.Shared("toxicity", "davidson-labeled_data.csv");
        var result = CliRunner.Run("toxicity", "train", "--data", davidson, "--positive", "0", "--positive", "1", "--out", TestPaths.NewTempDirectory());
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: --positive: give it once, or once per --data (1)", result.Error);
    }
}
