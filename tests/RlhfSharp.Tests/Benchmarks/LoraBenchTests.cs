using System.Text.Json;
using RlhfSharp.Cli.Benchmarks;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Benchmarks;

public class LoraBenchTests
{
    /// <summary>Every row at the tiny shape (d64, 2 layers, GPT-2's vocabulary): 6 child processes of a few seconds each.</summary>
    static readonly string[] TinyRun =
    [
        "bench", "lora", "--config", "tiny", "--large-model", "tiny", "--sft-batch-size", "2", "--sequence", "32", "--repeats", "1",
        "--batch-size", "2", "--new-tokens", "4", "--prompt-tokens", "16", "--mini-batch-size", "1", "--unfrozen-layers", "1", "--threads", "1",
    ];

    [Trait("Category", "Slow")] // six child processes
    [Fact]
    public void Every_row_runs_end_to_end_at_a_tiny_shape_each_configuration_in_its_own_process()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run([.. TinyRun, "--out", dir]);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("each column its own process", result.Output);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        var root = report.RootElement;

        var cases = root.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(["sft 3.4M, full fine-tuning, 2x32", "sft 3.4M, LoRA r16 all-linear, 2x32"], cases.Select(c => c.GetProperty("case").GetString()));
        Assert.All(cases, c => Assert.Equal(64, c.GetProperty("details").GetProperty("tokens_per_step").GetInt64()));

        var lora = root.GetProperty("lora");
        // The defaults were found above the working directory: the shared HH dialogues and GPT-2 tokenizer.
        Assert.Equal(TestPaths.Shared("hh-rlhf", "helpful-base", "test.jsonl.gz"), lora.GetProperty("settings").GetProperty("dialogues").GetString());
        Assert.Equal(TestPaths.Shared("gpt2-tokenizer"), lora.GetProperty("settings").GetProperty("tokenizer_folder").GetString());

        var sft = lora.GetProperty("sft").EnumerateArray().ToList();
        // r16 on c_attn (64->192), c_proj (64->64), c_fc (64->256) and the MLP's c_proj (256->64) of 2 blocks: 2 x 16 x 1024.
        Assert.Equal(3_382_080, sft[0].GetProperty("trainable_parameters").GetInt64());
        Assert.Equal(2 * 16 * (64 + 192 + 64 + 64 + 64 + 256 + 256 + 64), sft[1].GetProperty("trainable_parameters").GetInt64());
        Assert.Equal(8, sft[1].GetProperty("adapters").GetInt32());
        // Each peak is its own process's: had LoRA run after full fine-tuning in one process, its high-water mark would be
        // at least full fine-tuning's (which also holds 3.4M gradients and 6.8M AdamW moments).
        Assert.True(sft[1].GetProperty("peak_rss_mb").GetDouble() < sft[0].GetProperty("peak_rss_mb").GetDouble(),
            $"LoRA {sft[1].GetProperty("peak_rss_mb")} MB, full {sft[0].GetProperty("peak_rss_mb")} MB");

        var ppo = lora.GetProperty("ppo").EnumerateArray().ToList();
        Assert.Equal(["full", "hydra", "lora"], ppo.Select(p => p.GetProperty("layout").GetString()));
        // Full: a whole float32 copy; hydra: only the one unshared top block and the final norm; LoRA: nothing.
        Assert.Equal(Math.Round(3_382_080 * 4 / 1e6, 1), ppo[0].GetProperty("reference_own_mb").GetDouble());
        Assert.InRange(ppo[1].GetProperty("reference_own_mb").GetDouble(), 0.1, 1);
        Assert.Equal(1, ppo[1].GetProperty("shared_layers").GetInt32());
        Assert.Equal(0, ppo[2].GetProperty("reference_own_mb").GetDouble());
        // The GPT-2 rows' reward model is a second model (the trunk and a 64-wide score head); the large row's is a reward
        // adapter on the policy's own base, which holds only its adapters and score head.
        Assert.All(ppo, p => Assert.Equal(3_382_080 + 64, p.GetProperty("reward_own_parameters").GetInt64()));
        var large = lora.GetProperty("large");
        Assert.True(large.GetProperty("shared_reward").GetBoolean());
        Assert.Equal(2 * 16 * 1024 + 64, large.GetProperty("reward_own_parameters").GetInt64());
        foreach (var column in ppo.Append(large))
        {
            var split = column.GetProperty("split");
            double parts = new[] { "generation", "scoring", "reference", "training" }.Sum(p => split.GetProperty(p).GetDouble());
            // Each part is rounded to 10 ms: four of them add up to within 20 ms of the iteration.
            Assert.Equal(split.GetProperty("seconds").GetDouble(), parts, tolerance: 0.021);
            Assert.True(column.GetProperty("peak_rss_mb").GetDouble() > 100, "the runtime and LibTorch alone are resident");
        }
        Assert.Contains("fits: 23.", result.Output);
    }

    [Fact]
    public void The_large_row_can_score_with_a_second_model_instead_of_a_reward_adapter_on_its_base()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "lora", "--rows", "large", "--large-model", "tiny", "--separate-reward", "--batch-size", "2", "--new-tokens", "2",
            "--prompt-tokens", "8", "--mini-batch-size", "2", "--threads", "1", "--out", dir);
        Assert.True(result.ExitCode == 0, result.Error);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        var large = report.RootElement.GetProperty("lora").GetProperty("large");
        Assert.False(large.GetProperty("shared_reward").GetBoolean());
        Assert.Equal(3_382_080 + 64, large.GetProperty("reward_own_parameters").GetInt64());
        Assert.Contains("own copy, same shape", result.Output);
    }

    [Theory]
    [InlineData(new[] { "--rows", "dpo" }, "--rows must name some of sft, ppo, large, got 'dpo'")]
    [InlineData(new[] { "--large-model", "7b" }, "--large-model must be one of 23m, 98m, 124m, qwen2.5-0.5b, llama3.2-1b, tiny, got '7b'")]
    [InlineData(new[] { "--rows", "ppo", "--unfrozen-layers", "12" }, "--unfrozen-layers must be between 1 and 11 for 124m's 12 layers, got 12")]
    [InlineData(new[] { "--config", "23m" }, "--tokenizer: its ids reach 50256 but 23m has a vocabulary of 8192")]
    [InlineData(new[] { "--lora-r", "0" }, "LoRA rank r must be at least 1, got 0")]
    [InlineData(new[] { "--data", "no/such.jsonl" }, "--data: no/such.jsonl does not exist")]
    public void Impossible_settings_are_refused_in_one_line_before_any_process_starts(string[] options, string expected)
    {
        var result = CliRunner.Run(["bench", "lora", .. options]);
        CliRunner.AssertOneLineError(result, expected);
        Assert.DoesNotContain("own process", result.Error);
    }

    [Fact]
    public void A_failing_configuration_is_a_one_line_error_naming_it_and_why()
    {
        var result = CliRunner.Run(["bench", "lora", "--rows", "sft", "--config", "tiny", "--sft-batch-size", "1", "--sequence", "100000", "--threads", "1"]);
        Assert.Equal(1, result.ExitCode);
        string error = result.Error.Trim().Split('\n')[^1];
        Assert.StartsWith("error: bench lora, sft full tiny: its process failed (exit code 1): --data: ", error);
        Assert.EndsWith("has 0 dialogues of 100000 tokens or more, 1 needed (--sft-batch-size)", error);
    }

    [Fact]
    public void A_crashed_configuration_is_reported_by_its_exception_not_the_last_line_of_its_stack_trace()
    {
        string[] crash =
        [
            "Unhandled exception. System.FormatException: The input string 'kB' was not in a correct format.",
            "   at System.Number.ThrowFormatException[TChar](ReadOnlySpan`1 value)",
            "   at Program.<Main>$(String[] args) in /src/RlhfSharp.Cli/Program.cs:line 3",
        ];
        Assert.Equal("System.FormatException: The input string 'kB' was not in a correct format.", BenchChild.Reason(crash));
        Assert.Equal("--data: x has 0 dialogues", BenchChild.Reason(["warning: slow", "error: --data: x has 0 dialogues"]));
        Assert.Equal("Killed", BenchChild.Reason(["  Killed "]));
    }
}
