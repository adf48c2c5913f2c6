using System.CommandLine;
using System.Text.RegularExpressions;
using RlhfSharp.Cli;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;
using YamlDotNet.RepresentationModel;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// The knobs of `sft`, `reward` and `ppo`: one name across flag, YAML key and the written options file; help
/// that says what each option does for that command; `--print-config` showing what a run would use.
/// </summary>
public class TrainingOptionNamesTests
{
    /// <summary>The options that name files and folders or steer the run, not knobs of the options file.</summary>
    static readonly string[] NotKnobs = ["--model", "--revision", "--adapter", "--data", "--eval-data", "--policy", "--prompts", "--eval-prompts", "--reward-model", "--reward", "--reward-weight", "--reward-plugin",
        "--out", "--config", "--resume", "--print-config", "--help", "-h", "-?", "/?", "/h"];

    static Command Command(string name) => CliApp.BuildRoot().Subcommands.Single(c => c.Name == name);

    static string Description(string command, string option) => Command(command).Options.Single(o => o.Name == option).Description ?? "";

    /// <summary>The top-level keys of a YAML mapping, in order.</summary>
    static List<string> Keys(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return ((YamlMappingNode)stream.Documents[0].RootNode).Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList();
    }

    static string DefaultsYaml(string command)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "defaults.yaml");
        switch (command)
        {
            case "sft": YamlConfig.Save(path, new SftOptions()); break;
            case "reward": YamlConfig.Save(path, new RewardOptions()); break;
            case "dpo": YamlConfig.Save(path, new DpoOptions()); break;
            default: YamlConfig.Save(path, new PpoOptions()); break;
        }
        return File.ReadAllText(path);
    }

    [Theory]
    [InlineData("sft")]
    [InlineData("reward")]
    [InlineData("dpo")]
    [InlineData("ppo")]
    public void Every_yaml_key_is_a_flag_of_the_same_words_and_every_knob_flag_a_key(string command)
    {
        var keysAsFlags = Keys(DefaultsYaml(command)).Select(k => "--" + k.Replace('_', '-')).Order().ToList();
        var knobFlags = Command(command).Options.Select(o => o.Name).Except(NotKnobs).Order().ToList();
        Assert.Equal(keysAsFlags, knobFlags);
    }

    [Theory]
    [InlineData("sft")]
    [InlineData("reward")]
    [InlineData("dpo")]
    [InlineData("ppo")]
    public void Help_names_only_options_the_command_has(string command)
    {
        var options = Command(command).Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
        foreach (var option in Command(command).Options)
            foreach (Match named in Regex.Matches(option.Description ?? "", @"--[a-z][a-z0-9-]*"))
                Assert.True(options.Contains(named.Value), $"{command} {option.Name}: its help names {named.Value}, which {command} does not have");
    }

    [Fact]
    public void Ppo_help_describes_what_each_option_does_for_ppo()
    {
        var flags = Command("ppo").Options.Select(o => o.Name).ToList();
        // PPO's length is its iterations and its metrics are written every iteration: no epochs, no log cadence.
        Assert.DoesNotContain("--epochs", flags);
        Assert.DoesNotContain("--log-every", flags);
        var help = CliRunner.Run("ppo", "--help");
        string maxSteps = help.Output.Split('\n').Single(l => l.TrimStart().StartsWith("--max-steps "));
        Assert.Contains("iterations", maxSteps);
        Assert.EndsWith("[default: 100]", maxSteps.TrimEnd());
        Assert.Contains("prompts rolled out per iteration", Description("ppo", "--batch-size"));
        Assert.Contains("--prompts", Description("ppo", "--held-out-fraction"));
        Assert.Contains("mini-batches", Description("ppo", "--gradient-accumulation"));
        Assert.Contains("prompt tokens", Description("ppo", "--max-length"));
        foreach (string cadence in new[] { "--eval-every", "--save-every", "--warmup-steps" })
            Assert.Contains("iterations", Description("ppo", cadence));

        Assert.Contains("--data", Description("sft", "--held-out-fraction"));
        Assert.Contains("examples per micro-batch", Description("sft", "--batch-size"));
        Assert.Contains("pairs per micro-batch", Description("reward", "--batch-size"));
    }

    [Theory]
    [InlineData("sft", "--model")]
    [InlineData("reward", "--model")]
    [InlineData("dpo", "--model")]
    [InlineData("ppo", "--policy")]
    public void The_model_option_says_it_takes_an_adapter_folder(string command, string model)
    {
        Assert.Contains("LoRA adapter folder", Description(command, model));
        Assert.Contains($"{model} may instead be the adapter folder itself", Description(command, "--adapter"));
    }

    [Fact]
    public void Ppo_stop_sequences_typed_with_backslash_n_are_line_breaks_as_in_generate()
    {
        var defaults = CliRunner.Run("ppo", "--print-config");
        var typed = CliRunner.Run("ppo", "--print-config", "--stop-sequences", "\\n\\nHuman:");
        Assert.True(typed.ExitCode == 0, typed.Error);
        Assert.Equal(defaults.Output, typed.Output); // the default is "\n\nHuman:" with real line breaks
    }

    [Fact]
    public void Print_config_shows_defaults_then_config_then_flags_and_creates_nothing()
    {
        string config = Path.Combine(TestPaths.NewTempDirectory(), "ppo.yaml");
        File.WriteAllText(config, "batch_size: 3\ntarget_kl: 2.5\nclip_range: 0.1\nvalue_loss_coefficient: 0.5\neval_prompt_count: 7\n");
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "never-made");

        var result = CliRunner.Run("ppo", "--config", config, "--batch-size", "5", "--learning-rate", "0.002", "--out", outDir, "--print-config");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("", result.Error);
        Assert.False(Directory.Exists(outDir));
        string printed = Path.Combine(TestPaths.NewTempDirectory(), "printed.yaml");
        File.WriteAllText(printed, result.Output);
        var resolved = YamlConfig.Load<PpoOptions>(printed);
        Assert.Equal(5, resolved.BatchSize);                 // the flag beats the file
        Assert.Equal(0.002, resolved.LearningRate);          // a flag alone
        Assert.Equal(new PpoOptions().Sampling.MaxNewTokens, resolved.Sampling.MaxNewTokens); // a default
        Assert.Equal(["target_kl: 2.5", "clip_range: 0.1", "value_loss_coefficient: 0.5", "eval_prompt_count: 7"],
            result.Output.Split('\n').Where(l => Regex.IsMatch(l, "^(target_kl|clip_range|value_loss_coefficient|eval_prompt_count):")));
    }

    [Theory]
    [InlineData("sft", "--epochs", "2")]
    [InlineData("reward", "--margin", "0.5")]
    [InlineData("ppo", "--top-k", "20")]
    [InlineData("dpo", "--loss", "ipo")]
    public void Printed_options_feed_back_through_config_unchanged(string command, string flag, string value)
    {
        var first = CliRunner.Run(command, flag, value, "--max-length", "64", "--print-config");
        Assert.True(first.ExitCode == 0, first.Error);
        string file = Path.Combine(TestPaths.NewTempDirectory(), "printed.yaml");
        File.WriteAllText(file, first.Output);

        var again = CliRunner.Run(command, "--config", file, "--print-config");

        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(first.Output, again.Output);
        Assert.Contains($"{flag[2..].Replace('-', '_')}: {value}", first.Output.Split('\n'));
    }

    [Fact]
    public void The_options_file_a_run_writes_feeds_back_through_config()
    {
        string data = TrainingCommandTestsModels.HhSample(8);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "sft");
        var run = CliRunner.Run("sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir,
            "--max-steps", "1", "--batch-size", "2", "--max-length", "40", "--learning-rate", "0.001", "--adam-beta2", "0.95");
        Assert.True(run.ExitCode == 0, run.Error);
        string written = Path.Combine(outDir, "sft_options.yaml");

        var printed = CliRunner.Run("sft", "--config", written, "--print-config");

        Assert.True(printed.ExitCode == 0, printed.Error);
        Assert.Equal(File.ReadAllText(written), printed.Output);
        Assert.Contains("adam_beta2: 0.95", printed.Output.Split('\n'));
    }

    [Theory]
    [InlineData("cliprange: 0.1", "unknown key 'cliprange'; did you mean 'clip_range'?")]
    [InlineData("vf_coef: 0.5", "unknown key 'vf_coef'; did you mean 'value_loss_coefficient'?")]
    [InlineData("target: 3", "unknown key 'target'; did you mean 'target_kl'?")]
    [InlineData("eval_prompts: 4", "unknown key 'eval_prompts'; did you mean 'eval_prompt_count'?")]
    [InlineData("eval_count: 4", "unknown key 'eval_count'; did you mean 'eval_prompt_count'?")]
    [InlineData("lr: 0.1", "unknown key 'lr'; did you mean 'learning_rate'?")]
    [InlineData("epochs: 2", "unknown key 'epochs'")]
    public void An_unknown_ppo_key_names_file_line_and_the_nearest_known_key(string line, string expected)
    {
        string config = Path.Combine(TestPaths.NewTempDirectory(), "ppo.yaml");
        File.WriteAllText(config, $"batch_size: 4\n{line}\n");

        var result = CliRunner.Run("ppo", "--config", config, "--print-config");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {config}:2:1: {expected}", result.Error.Trim());
    }
}
