using System.Collections.Concurrent;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// Every command derives its lengths from the model's context (issue 15, section 4), tried as a new user would: models
/// of 256 positions, a learned-position GPT-2 and a rotary Llama, with long HH-RLHF dialogues and the default flags.
/// </summary>
public class ContextWindowCommandTests
{
    const int Context = 256;

    static string[] NoteLines(CliResult result) =>
        result.Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("note: --max-length", StringComparison.Ordinal)).ToArray();


    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Eval_reward_lowers_the_default_max_length_to_the_models_context(string family)
    {
        // Before: GPT-2 stopped with "sequence of 512 positions exceeds the model's maximum of 256"; Llama ran its
        // rotary positions past the context without a word.
        var result = CliRunner.Run("eval", "reward", "--model", ContextWindowModels.RewardModel(family), "--data", TrainingCommandTestsModels.HhSample(40));
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal([$"note: --max-length 512 is longer than the model's context of {Context} positions; using {Context}"], NoteLines(result));
        Assert.Contains("pairs 40 accuracy", result.Output);

        var fits = CliRunner.Run("eval", "reward", "--model", ContextWindowModels.RewardModel(family), "--data", TrainingCommandTestsModels.HhSample(4), "--max-length", "200");
        Assert.True(fits.ExitCode == 0, fits.Error);
        Assert.Empty(NoteLines(fits));
    }

    [Theory]
    [InlineData("sft", "gpt2")]
    [InlineData("sft", "llama")]
    [InlineData("reward", "gpt2")]
    [InlineData("reward", "llama")]
    public void Sft_and_reward_lower_the_default_max_length_to_the_models_context(string command, string family)
    {
        // Before: GPT-2 refused with "option --max-length is 512: 15 examples are longer than the model's 256 positions";
        // Llama trained on sequences past its context.
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), command);
        var result = CliRunner.Run(command, "--model", ContextWindowModels.LanguageModel(family), "--data", TrainingCommandTestsModels.HhSample(40), "--out", outDir,
            "--max-steps", "1", "--batch-size", "2", "--held-out-fraction", "0");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Equal([$"note: --max-length 512 is longer than the model's context of {Context} positions; using {Context}"], NoteLines(result));
        Assert.Contains($"to fit {Context} tokens", result.Output);
        // The run records the length it used, so --resume with the same command line compares like with like.
        string optionsFile = Path.Combine(outDir, $"{command}_options.yaml");
        Assert.Equal(Context, command == "sft" ? YamlConfig.Load<SftOptions>(optionsFile).MaxLength : YamlConfig.Load<RewardOptions>(optionsFile).MaxLength);
        var resumed = CliRunner.Run(command, "--model", ContextWindowModels.LanguageModel(family), "--data", TrainingCommandTestsModels.HhSample(40), "--out", outDir,
            "--max-steps", "2", "--batch-size", "2", "--held-out-fraction", "0", "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        Assert.DoesNotContain("--max-length was", resumed.Output);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Ppo_cuts_long_prompts_to_the_context_minus_max_new_tokens(string family)
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        string prompts = TrainingCommandTestsModels.HhSample(40);
        var result = CliRunner.Run("ppo", "--policy", ContextWindowModels.LanguageModel(family), "--reward-model", ContextWindowModels.RewardModel(family),
            "--prompts", prompts, "--out", outDir, "--max-steps", "2", "--batch-size", "8", "--ppo-epochs", "1", "--eval-every", "2", "--eval-prompt-count", "2");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("done: 2 iterations", result.Output);
        Assert.Equal([$"note: --max-length 512 is more than the 192 prompt tokens the model's context of {Context} positions leaves beside --max-new-tokens 64; using 192"],
            NoteLines(result));
        Assert.Matches(@"note: \d+ of 40 prompts were longer than 192 tokens and were cut from the left", result.Output);
    }

    [Fact]
    public void Generate_cuts_long_prompts_to_the_context_minus_max_new_tokens()
    {
        string prompts = TrainingCommandTestsModels.HhSample(8);
        var result = CliRunner.Run("generate", "--model", ContextWindowModels.LanguageModel("llama"), "--prompts", prompts, "--max-new-tokens", "100", "--greedy");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Matches(@"note: \d+ of 8 prompts were longer than 156 tokens and were cut from the left", result.Output);
    }

    public static TheoryData<string> SamplingCommands => ["ppo", "generate", "eval toxicity", "eval pairwise prepare"];

    [Theory]
    [MemberData(nameof(SamplingCommands))]
    public void Max_new_tokens_that_leave_no_room_for_a_prompt_are_refused_before_any_work(string command)
    {
        string model = ContextWindowModels.LanguageModel("llama"), scratch = TestPaths.NewTempDirectory(), output = Path.Combine(scratch, "out");
        string hh = TrainingCommandTestsModels.HhSample(8);
        string[] args = command switch
        {
            "ppo" => ["ppo", "--policy", model, "--reward-model", ContextWindowModels.RewardModel("llama"), "--prompts", hh, "--out", output, "--max-steps", "1"],
            "generate" => ["generate", "--model", model, "--prompts", hh, "--output", output],
            "eval toxicity" => ["eval", "toxicity", "--model", model, "--prompts", TestPaths.Shared("real-toxicity-prompts", "nontoxic.jsonl"), "--n", "2",
                "--scorer", $"wordlist:{TestPaths.Shared("wordlists", "ldnoobw-en.txt")}", "--out", output],
            _ => ["eval", "pairwise", "prepare", "--model-a", model, "--model-b", model, "--prompts", hh, "--n", "2", "--out", output],
        };
        var result = CliRunner.Run([.. args, "--max-new-tokens", $"{Context}"]);
        Assert.Equal(1, result.ExitCode);
        Assert.False(Path.Exists(output), $"{output} was written");
        Assert.Equal("", result.Output); // nothing read, loaded or generated first
        CliRunner.AssertOneLineError(result, $"option --max-new-tokens is {Context}", $"context of {Context} positions", $"at most {Context - 1}");
    }

    [Fact]
    public void Pairwise_prepare_checks_both_models_before_generating_with_either()
    {
        // Model B (128 positions) has no room beside 128 new tokens; model A (256) has. Before, A generated every
        // response and printed its cut report, then B stopped with an error that did not say which model.
        string scratch = TestPaths.NewTempDirectory(), output = Path.Combine(scratch, "comparisons.jsonl"), prompts = Path.Combine(scratch, "long.txt");
        File.WriteAllLines(prompts, Enumerable.Range(0, 4).Select(i => string.Concat(Enumerable.Repeat($"word{i} ", 200)))); // each longer than A's room of 128
        string modelB = TrainingCommandTestsModels.TinyModel;
        var result = CliRunner.Run("eval", "pairwise", "prepare", "--model-a", ContextWindowModels.LanguageModel("llama"), "--model-b", modelB,
            "--prompts", prompts, "--n", "4", "--max-new-tokens", "128", "--out", output);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.False(File.Exists(output));
        CliRunner.AssertOneLineError(result, "option --max-new-tokens is 128", $"--model-b {modelB}'s context of 128 positions");
    }
}

/// <summary>Tiny random models of 256 positions over the real GPT-2 vocabulary (with its tokenizer files): a language model and a reward model of each family.</summary>
public static class ContextWindowModels
{
    static readonly ConcurrentDictionary<string, Lazy<string>> Folders = new();

    static System.Text.Json.Nodes.JsonObject ConfigJson(string family)
    {
        var json = Models.TinyModels.ConfigJson(family);
        json["vocab_size"] = 50257;
        json["eos_token_id"] = 50256;
        if (family == "gpt2") (json["n_embd"], json["n_positions"]) = (16, 256);
        else (json["hidden_size"], json["intermediate_size"], json["max_position_embeddings"]) = (16, 32, 256);
        return json;
    }

    static string Folder(string key, Action<ModelConfig, string> save) => Folders.GetOrAdd(key, _ => new Lazy<string>(() =>
    {
        string family = key.Split(':')[1], dir = TestPaths.NewTempDirectory();
        TorchSharp.torch.manual_seed(5);
        save(ModelConfig.FromJson(ConfigJson(family)), dir);
        PretrainedWeights.CopyTokenizerFiles(TestPaths.Shared("gpt2-tokenizer"), dir);
        return dir;
    })).Value;

    public static string LanguageModel(string family) => Folder($"lm:{family}", (config, dir) =>
    {
        using var model = new CausalLanguageModel(config);
        model.SavePretrained(dir);
    });

    public static string RewardModel(string family) => Folder($"rm:{family}", (config, dir) =>
    {
        using var model = new SequenceRewardModel(config);
        model.SavePretrained(dir);
    });
}
