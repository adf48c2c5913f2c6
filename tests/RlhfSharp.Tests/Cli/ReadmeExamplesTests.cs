using RlhfSharp.Data;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Reward;

namespace RlhfSharp.Tests.Cli;

/// <summary>What the README tells a new user: its example files work as shown, and bad rows say how to skip them.</summary>
public class ReadmeExamplesTests
{
    static string Example(string name) => Path.Combine(TestPaths.RepositoryRoot, "docs", "examples", name);

    static string Readme => File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));

    [Fact]
    public void The_readme_shows_the_example_files_as_they_are()
    {
        Assert.Contains(File.ReadAllText(Example("rm.yaml")).Trim(), Readme);
        Assert.Contains(File.ReadLines(Example("prefs.jsonl")).First(), Readme);
        Assert.Contains("docs/examples/prefs.jsonl", Readme);
        Assert.Contains("docs/examples/rm.yaml", Readme);
    }

    [Fact]
    public void The_readme_reward_config_trains_on_the_readme_preference_file()
    {
        var pairs = DatasetReader.ReadPreferences(Example("prefs.jsonl")).Examples;
        Assert.True(pairs.Count >= 4);
        Assert.NotEqual(new RewardOptions().LearningRate, YamlConfig.Load<RewardOptions>(Example("rm.yaml")).LearningRate);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "rm");

        var result = CliRunner.Run("reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", Example("prefs.jsonl"),
            "--out", outDir, "--config", Example("rm.yaml"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("score.weight", ModelCheckpoint.Open(outDir).Tensors.Keys);
        // The run used exactly the file's values over the defaults, but for max_length 512: the tiny model's context is 128.
        Assert.Contains("note: --max-length 512 is longer than the model's context of 128 positions; using 128", result.Output);
        string expected = Path.Combine(TestPaths.NewTempDirectory(), "expected.yaml");
        YamlConfig.Save(expected, YamlConfig.Merge(YamlConfig.Load<RewardOptions>(Example("rm.yaml")), new Dictionary<string, object?> { [nameof(RewardOptions.MaxLength)] = 128 }));
        Assert.Equal(File.ReadAllText(expected), File.ReadAllText(Path.Combine(outDir, "reward_options.yaml")));
    }

    [Fact]
    public void A_bad_row_error_says_how_to_skip_bad_rows_where_the_command_can()
    {
        string data = Path.Combine(TestPaths.NewTempDirectory(), "prefs.jsonl");
        File.WriteAllLines(data, [File.ReadLines(Example("prefs.jsonl")).First(), """{"prompt": "Hi", "chosen": "Hello"}"""]);

        var training = CliRunner.Run("reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data,
            "--out", Path.Combine(TestPaths.NewTempDirectory(), "rm"));
        var evaluation = CliRunner.Run("eval", "reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data);

        foreach (var result in new[] { training, evaluation })
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Equal($"error: {data}:2: missing field \"rejected\" (--skip-bad-rows skips and counts such rows)", result.Error.Trim());
        }
    }
}
