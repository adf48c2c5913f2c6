using RlhfSharp.Cli.Commands;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// A run that cannot start leaves no --out folder behind (so the corrected command runs into the same --out), and every
/// numeric option and model folder is checked with a one-line error naming the option and the value.
/// </summary>
public class StartupValidationTests
{
    static string Policy => TrainingCommandTestsModels.TinyModel;

    static readonly string[] Quick = ["--max-steps", "1", "--batch-size", "2", "--held-out-fraction", "0"];

    /// <summary>A reward model trained for one step (it has a score head).</summary>
    static readonly Lazy<string> RewardModel = new(() =>
    {
        string dir = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        var result = CliRunner.Run(["reward", "--model", Policy, "--data", TrainingCommandTestsModels.HhSample(8), "--out", dir, "--max-length", "48", .. Quick]);
        Assert.True(result.ExitCode == 0, result.Error);
        return dir;
    });

    static string[] Command(string command, string outDir, string data) => command switch
    {
        "ppo" => ["ppo", "--policy", Policy, "--reward-model", RewardModel.Value, "--prompts", data, "--out", outDir, .. Quick,
            "--max-new-tokens", "4", "--eval-prompt-count", "1", "--ppo-epochs", "1"],
        _ => [command, "--model", Policy, "--data", data, "--out", outDir, .. Quick, "--log-every", "1"],
    };

    /// <summary>The arguments with <paramref name="option"/> and its value taken out, so a test can give its own.</summary>
    static string[] Without(string[] args, string option)
    {
        int at = Array.IndexOf(args, option);
        return at < 0 ? args : [.. args[..at], .. args[(at + 2)..]];
    }


    [Theory]
    // Freezing more layers than the model has (2) stopped the trainer after the folder was written.
    [InlineData("sft", "--freeze-bottom-layers", "5", "1", "2 layers")]
    [InlineData("reward", "--freeze-bottom-layers", "3", "0", "2 layers")]
    // No room for a prompt in the policy's 128 positions: found at the first rollout. (A --max-length above the context
    // is lowered to it, not refused: ContextWindowCommandTests.)
    [InlineData("ppo", "--max-new-tokens", "128", "4", "context of 128 positions")]
    public void A_run_that_cannot_start_leaves_no_out_folder_and_the_corrected_rerun_works(string command, string option, string bad, string good, string reason)
    {
        string data = TrainingCommandTestsModels.HhSample(12);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");

        string[] length = option == "--max-length" ? [] : ["--max-length", "48"];
        var failed = CliRunner.Run([.. Without(Command(command, outDir, data), option), option, bad, .. length]);
        CliRunner.AssertOneLineError(failed, bad, reason);
        Assert.False(Directory.Exists(outDir), $"{outDir} was left behind: {string.Join(", ", Directory.Exists(outDir) ? Directory.GetFileSystemEntries(outDir) : [])}");

        var rerun = CliRunner.Run([.. Without(Command(command, outDir, data), option), option, good, .. length]);
        Assert.True(rerun.ExitCode == 0, rerun.Error);
        Assert.True(File.Exists(Path.Combine(outDir, "model.safetensors")));
    }

    [Theory]
    [InlineData("sft")]
    [InlineData("reward")]
    public void A_tokenizer_with_more_ids_than_the_model_is_refused_before_the_out_folder(string command)
    {
        string small = RlhfSharp.Tests.Models.TinyModels.SavedWithOversizedTokenizer("gpt2");
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        var result = CliRunner.Run([command, "--model", small, "--data", TrainingCommandTestsModels.HhSample(8), "--out", outDir, "--max-length", "48", .. Quick]);
        CliRunner.AssertOneLineError(result, $"--model {small}: its tokenizer has 50257 token ids", "the model's vocab_size is 97");
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("ppo")]
    [InlineData("grpo")]
    [InlineData("rloo")]
    public void A_policy_tokenizer_with_more_ids_than_the_policy_is_refused_before_the_out_folder(string command)
    {
        string small = RlhfSharp.Tests.Models.TinyModels.SavedWithOversizedTokenizer("gpt2");
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string prompts = Path.Combine(TestPaths.NewTempDirectory(), "prompts.txt");
        File.WriteAllLines(prompts, ["Hello there", "How are you?"]);
        var result = CliRunner.Run([command, "--policy", small, "--prompts", prompts, "--out", outDir, "--reward", "length:max=4", .. Quick,
            "--max-new-tokens", "2", "--eval-prompt-count", "1"]);
        CliRunner.AssertOneLineError(result, $"--policy {small}: its tokenizer has 50257 token ids", "the model's vocab_size is 97");
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("sft")]
    [InlineData("reward")]
    [InlineData("ppo")]
    public void A_missing_data_file_leaves_no_out_folder(string command)
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        CliRunner.AssertOneLineError(CliRunner.Run(Command(command, outDir, "/nonexistent/data.jsonl")), "/nonexistent/data.jsonl");
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("sft", "--warmup-steps", "-3")]
    [InlineData("sft", "--max-grad-norm", "-1")]
    [InlineData("sft", "--max-grad-norm", "NaN")]
    [InlineData("sft", "--learning-rate", "Infinity")]
    [InlineData("sft", "--epochs", "NaN")]
    [InlineData("sft", "--weight-decay", "Infinity")]
    [InlineData("sft", "--eval-every", "0")]
    [InlineData("sft", "--save-every", "-2")]
    [InlineData("sft", "--log-every", "0")]
    [InlineData("reward", "--warmup-steps", "-1")]
    [InlineData("reward", "--center-rewards-coefficient", "-0.5")]
    [InlineData("reward", "--margin", "NaN")]
    [InlineData("ppo", "--top-k", "-1")]
    [InlineData("ppo", "--eval-prompt-count", "0")]
    [InlineData("ppo", "--samples-every", "0")]
    [InlineData("ppo", "--temperature", "Infinity")]
    [InlineData("ppo", "--init-kl-coef", "NaN")]
    [InlineData("ppo", "--gamma", "1.5")]
    [InlineData("ppo", "--lambda", "-0.1")]
    [InlineData("ppo", "--clip-range-value", "0")]
    [InlineData("ppo", "--value-loss-coefficient", "-1")]
    [InlineData("ppo", "--horizon", "0")]
    [InlineData("ppo", "--target-kl", "-2")]
    [InlineData("ppo", "--mini-batch-size", "-1")]
    [InlineData("ppo", "--max-grad-norm", "-1")]
    public void Out_of_range_numbers_are_one_line_errors_naming_the_option_and_the_value(string command, string option, string value)
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string[] length = command == "ppo" ? [] : ["--max-length", "48"];
        CliRunner.AssertOneLineError(CliRunner.Run([.. Without(Command(command, outDir, TrainingCommandTestsModels.HhSample(4)), option), option, value, .. length]), option, value);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Out_of_range_numbers_in_a_config_file_name_the_key_and_the_value()
    {
        string config = Path.Combine(TestPaths.NewTempDirectory(), "sft.yaml");
        File.WriteAllText(config, "warmup_steps: -3\n");
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        CliRunner.AssertOneLineError(CliRunner.Run([.. Command("sft", outDir, TrainingCommandTestsModels.HhSample(4)), "--config", config, "--max-length", "48"]), "sft.yaml", "warmup_steps", "-3");
    }

    [Theory]
    [InlineData("--max-new-tokens", "0")]
    [InlineData("--temperature", "Infinity")]
    [InlineData("--top-k", "-1")]
    [InlineData("--top-p", "1.5")]
    [InlineData("--batch-size", "0")]
    public void Generate_names_the_option_and_the_value(string option, string value)
    {
        CliRunner.AssertOneLineError(CliRunner.Run("generate", "--model", Policy, "--input-ids", "1,2", option, value), option, value);
    }

    [Theory]
    [InlineData("--batch-size", "0")]
    [InlineData("--max-length", "1")]
    public void Eval_reward_names_the_option_and_the_value(string option, string value)
    {
        CliRunner.AssertOneLineError(CliRunner.Run("eval", "reward", "--model", RewardModel.Value, "--data", TrainingCommandTestsModels.HhSample(4), option, value), option, value);
    }

    public static TheoryData<string[]> MissingModelFolders()
    {
        string missing = Path.Combine(TestPaths.NewTempDirectory(), "no-such-model");
        string data = TrainingCommandTestsModels.HhSample(4), outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        return new TheoryData<string[]>
        {
            new[] { "--model", missing, "generate", "--model", missing, "--prompt", "Hi" },
            new[] { "--model", missing, "sft", "--model", missing, "--data", data, "--out", outDir },
            new[] { "--model", missing, "reward", "--model", missing, "--data", data, "--out", outDir },
            new[] { "--policy", missing, "ppo", "--policy", missing, "--reward-model", Policy, "--prompts", data, "--out", outDir },
            new[] { "--reward-model", missing, "ppo", "--policy", Policy, "--reward-model", missing, "--prompts", data, "--out", outDir },
            new[] { "--model", missing, "eval", "reward", "--model", missing, "--data", data },
            new[] { "--model-b", missing, "eval", "pairwise", "prepare", "--model-a", Policy, "--model-b", missing, "--prompts", data, "--out", Path.Combine(outDir, "c.jsonl") },
            new[] { "--judge-reward-model", missing, "eval", "pairwise", "judge", "--comparisons", data, "--judge-reward-model", missing, "--out", outDir },
            new[] { "--model", missing, "eval", "toxicity", "--model", Policy, "--model", missing, "--prompts", data, "--out", outDir },
        };
    }

    [Theory]
    [MemberData(nameof(MissingModelFolders))]
    public void A_missing_model_folder_is_named_as_missing(string[] optionThenArgs)
    {
        string option = optionThenArgs[0], missing = optionThenArgs[1];
        var result = CliRunner.Run(optionThenArgs[2..]);
        CliRunner.AssertOneLineError(result, option, missing, "folder does not exist");
        Assert.DoesNotContain("tokenizer", result.Error);
    }

    /// <summary>A failure only known after the folder was written removes what the run wrote, never earlier results.</summary>
    [Fact]
    public void A_failed_start_removes_only_what_it_wrote()
    {
        string root = TestPaths.NewTempDirectory();
        string absent = Path.Combine(root, "absent"), empty = Path.Combine(root, "empty"), earlier = Path.Combine(root, "earlier");
        Directory.CreateDirectory(empty);
        Directory.CreateDirectory(earlier);
        File.WriteAllText(Path.Combine(earlier, "run.json"), "{}");
        foreach (string dir in new[] { absent, empty, earlier })
        {
            var folder = RunFolder.Check(dir, resume: true);
            folder.Create();
            Directory.CreateDirectory(Path.Combine(dir, "tensorboard"));
            File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), "");
            folder.RemoveAfterFailedStart();
        }
        Assert.False(Directory.Exists(absent));
        Assert.Empty(Directory.GetFileSystemEntries(empty));
        Assert.Equal(["metrics.jsonl", "run.json", "tensorboard"], Directory.GetFileSystemEntries(earlier).Select(Path.GetFileName).Order());
        Assert.ThrowsAny<RlhfException>(() => RunFolder.Check(earlier, resume: false));
    }
}
