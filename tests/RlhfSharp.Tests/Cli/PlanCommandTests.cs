using System.Text.RegularExpressions;
using RlhfSharp.Cli.Commands;

namespace RlhfSharp.Tests.Cli;

public class PlanCommandTests
{
    static string Recipes => Path.Combine(TestPaths.RepositoryRoot, "recipes");
    static string Model(string name) => Path.Combine(Recipes, "models", name);

    /// <summary>Every recipe's file name ends in its trainer and its header names its model's config.json under recipes/models.</summary>
    public static TheoryData<string> RecipeFiles => new(Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "recipes"), "*.yaml").Select(Path.GetFileName).Order()!);

    static string ModelOf(string recipe) =>
        Regex.Match(File.ReadAllText(Path.Combine(Recipes, recipe)), @"models/([\w.\-]+)/config\.json") is { Success: true } match
            ? Model(match.Groups[1].Value)
            : throw new InvalidOperationException($"{recipe} names no model under recipes/models");

    /// <summary>Pins the time and the memory compared against, so the output is the same on every machine.</summary>
    static CliResult Plan(params string[] args) => CliRunner.Run(["plan", .. args, "--gflops", "100", "--memory-gib", "24"]);

    [Theory]
    [MemberData(nameof(RecipeFiles))]
    public void Every_recipe_is_read_by_its_trainer_and_planned_for_the_model_it_names(string recipe)
    {
        string path = Path.Combine(Recipes, recipe);
        string trainer = Path.GetFileNameWithoutExtension(recipe).Split('-')[^1];
        var printed = CliRunner.Run(trainer, "--config", path, "--print-config");
        Assert.True(printed.ExitCode == 0, printed.Error);

        var plan = Plan("--model", ModelOf(recipe), "--config", path);
        Assert.True(plan.ExitCode == 0, plan.Error);
        Assert.StartsWith($"plan: {trainer} of ", plan.Output);
        Assert.Matches(@"│ peak +│ +[\d.]+ GiB", plan.Output);
        Assert.Matches(@"(fits|does not fit): ", plan.Output);
        Assert.Contains("at 100 GFLOP/s", plan.Output);
    }

    /// <summary>
    /// Pythia-160M, SFT of 8 x 512 tokens, every weight trained (162,322,944 parameters, no dropout): weights and gradients
    /// 649,291,776 bytes each, two moments twice that; activations per token 12 blocks x 13,584 floats (input 770, second
    /// norm's statistics 2, normed 768, fused qkv 2,304, rotated q and k 1,536, output 768, log-sum-exp 12, padding mask 512,
    /// the MLP's normed input 768, up 3,072, GELU 3,072) plus the final norm's input and statistics 770 and the head's input 768,
    /// x 4 bytes x 4,096 tokens = 2,695,921,664; logits: 8 x 511 = 4,088 scored positions projected 83 at a time (4,194,304 /
    /// 50,304), four [83, 50,304] tensors in backward and the positions' hidden states, (4 x 83 x 50,304 + 4,088 x 768) x 4 =
    /// 79,362,048. Peak: the runtime's 160,000,000 + 4 x 649,291,776 + both = 5,532,450,816 bytes, 5.15 GiB. FLOPs: 769,720,320 a token (forward 256,573,440,
    /// input gradients 266,010,624, weight gradients 247,136,256) x 4,096 = 3.15 TFLOP, 31.5 s at 100 GFLOP/s.
    /// </summary>
    [Fact]
    public void The_pythia_160m_sft_recipe_plans_to_the_hand_counted_figures()
    {
        var result = Plan("--model", Model("pythia-160m"), "--config", Path.Combine(Recipes, "hh-pythia-160m-sft.yaml"));
        Assert.True(result.ExitCode == 0, result.Error);
        string Row(string name) => result.Output.Split('\n').Single(line => line.StartsWith($"│ {name} "));
        Assert.Contains("│  619 MiB │ held", Row("model weights"));
        Assert.Contains("│  619 MiB │ held", Row("gradients"));
        Assert.Contains("│ 1.21 GiB │ held", Row("AdamW state"));
        Assert.Contains("│ 2.51 GiB │ training", Row("activations"));
        Assert.Contains("│   76 MiB │ training", Row("logits"));
        Assert.Contains("│ 5.15 GiB │ training", Row("peak"));
        Assert.Contains("parameters: 162.3M, 162.3M trainable (100.00%)", result.Output);
        Assert.Contains("fits: 5.15 GiB of the 24.00 GiB given, 18.85 GiB to spare", result.Output);
        Assert.Contains("time per step: at least 31.5 s, 3.15 TFLOP at 100 GFLOP/s", result.Output);
    }

    [Fact]
    public void Flags_override_the_recipe_and_lora_leaves_no_reference_copy()
    {
        var result = Plan("--model", Model("qwen2.5-0.5b-instruct"), "--config", Path.Combine(Recipes, "hh-qwen2.5-0.5b-lora-ppo.yaml"),
            "--batch-size", "2", "--lora-r", "8", "--lora-target", "q_proj,v_proj");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("LoRA r 8, 2 prompts x (512 + 96 new) tokens", result.Output);
        Assert.Contains("r 8 on q_proj,v_proj in 24 layers", result.Output);
        Assert.Contains("│ reward model ", result.Output);
        Assert.DoesNotContain("reference model", result.Output);
    }

    [Fact]
    public void Gradient_checkpointing_comes_from_the_recipe_or_the_flag()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "checkpointed-sft.yaml");
        File.WriteAllText(path, "batch_size: 2\nmax_length: 64\ngradient_checkpointing: true\n");
        var fromRecipe = Plan("--model", Model("pythia-160m"), "--config", path);
        var fromFlag = Plan("--model", Model("pythia-160m"), "--method", "sft", "--batch-size", "2", "--max-length", "64", "--gradient-checkpointing");
        Assert.True(fromRecipe.ExitCode == 0, fromRecipe.Error);
        Assert.Contains("2 x 64 tokens, gradient checkpointing", fromRecipe.Output);
        Assert.Contains("2 x 64 tokens, 12 layers, checkpointed", fromRecipe.Output);
        Assert.Equal(fromFlag.Output, fromRecipe.Output);
    }

    [Fact]
    public void A_ppo_prompt_longer_than_the_context_leaves_is_lowered_with_a_note()
    {
        var result = Plan("--model", Model("pythia-160m"), "--method", "ppo", "--max-length", "2000", "--max-new-tokens", "100");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.StartsWith("note: --max-length 2000 is more than the 1948 prompt tokens the model's context of 2048 positions leaves beside --max-new-tokens 100; using 1948", result.Output);
    }

    [Fact]
    public void An_unknown_method_is_a_one_line_error() =>
        CliRunner.AssertOneLineError(Plan("--model", Model("pythia-160m"), "--method", "grpo"), "option --method is grpo: must be one of sft, reward, ppo, dpo");

    [Fact]
    public void A_config_whose_name_names_no_trainer_needs_method()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "recipe.yaml");
        File.WriteAllText(path, "batch_size: 2\n");
        CliRunner.AssertOneLineError(Plan("--model", Model("pythia-160m"), "--config", path), path, "--method");
    }

    [Fact]
    public void A_model_folder_without_config_json_is_a_one_line_error()
    {
        string folder = TestPaths.NewTempDirectory();
        CliRunner.AssertOneLineError(Plan("--model", folder, "--method", "sft"), $"option --model is {folder}: the folder has no config.json");
    }

    [Fact]
    public void A_bad_recipe_key_is_a_one_line_error_naming_file_line_and_key()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "mine-sft.yaml");
        File.WriteAllText(path, "batch_size: 2\nlearning_rat: 1e-5\n");
        CliRunner.AssertOneLineError(Plan("--model", Model("pythia-160m"), "--config", path), $"{path}:2:1: unknown key 'learning_rat'; did you mean 'learning_rate'?");
    }

    [Fact]
    public void A_bad_recipe_value_is_a_one_line_error_naming_the_file()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "mine-ppo.yaml");
        File.WriteAllText(path, "batch_size: 0\n");
        CliRunner.AssertOneLineError(Plan("--model", Model("pythia-160m"), "--config", path), $"{path}: option 'batch_size' is 0: must be positive");
    }

    [Fact]
    public void A_lora_target_the_model_lacks_is_a_one_line_error_naming_its_layers() =>
        CliRunner.AssertOneLineError(Plan("--model", Model("pythia-160m"), "--method", "sft", "--lora-r", "4", "--lora-target", "q_proj"),
            "option --lora-target is q_proj: 'q_proj' is not a linear layer of a GptNeoX block (its layers: query_key_value, dense, dense_h_to_4h, dense_4h_to_h, or all-linear)");

    [Fact]
    public void Machine_memory_is_read_from_proc_meminfo_in_bytes()
    {
        var memory = MachineMemory.Parse("MemTotal:       24683652 kB\nMemFree:        15554000 kB\nMemAvailable:   23950972 kB\n");
        Assert.Equal(new MachineMemory(24683652L * 1024, 23950972L * 1024), memory);
        Assert.Null(MachineMemory.Parse("MemTotal: 1 kB\n"));
    }
}
