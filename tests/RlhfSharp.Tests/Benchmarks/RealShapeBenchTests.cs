using System.Text.Json;
using RlhfSharp.Cli.Benchmarks;
using RlhfSharp.Data;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Benchmarks;

/// <summary>`rlhf bench real-shape`: its batches, its one-line errors, and that a --quick run prints and saves its rows (never its timings).</summary>
public class RealShapeBenchTests
{
    static string HelpfulBase => TestPaths.Shared("hh-rlhf", "helpful-base", "test.jsonl.gz");
    static string Gpt2Tokenizer => TestPaths.Shared("gpt2-tokenizer");

    static RealShapeSettings Settings(int batch, int maxLength, int steps) => new()
    {
        Dialogues = HelpfulBase, TokenizerFolder = Gpt2Tokenizer, SftBatch = batch, MaxLength = maxLength, SftSteps = steps,
    };

    [Fact]
    public void The_sft_batches_are_the_files_dialogues_in_order_encoded_as_the_trainer_encodes_them_at_their_own_lengths()
    {
        var settings = Settings(batch: 3, maxLength: 512, steps: 2);
        var tokenizer = settings.Tokenizer();
        var batches = RealShapeBench.SftBatches(settings, tokenizer);

        // A warm-up batch and two timed ones, three dialogues each.
        Assert.Equal([3, 3, 3], batches.Select(b => b.Count));
        var encoder = new ExampleEncoder(tokenizer);
        var dialogues = DatasetReader.ReadSft(HelpfulBase).Examples;
        // The second timed batch starts with the file's seventh dialogue.
        Assert.Equal(encoder.EncodeSft(dialogues[6], 512).InputIds, batches[2][0].InputIds);
        Assert.Equal(encoder.EncodeSft(dialogues[6], 512).Labels, batches[2][0].Labels);
        var lengths = batches.SelectMany(b => b).Select(e => e.InputIds.Length).ToList();
        Assert.All(lengths, length => Assert.InRange(length, 2, 512));
        Assert.True(lengths.Distinct().Count() > 1, $"real lengths, not one padded shape: {string.Join(", ", lengths)}");
    }

    [Fact]
    public void Long_dialogues_are_cut_to_the_maximum_length()
    {
        var batches = RealShapeBench.SftBatches(Settings(batch: 4, maxLength: 24, steps: 1), TokenizerLoader.FromDirectory(Gpt2Tokenizer)!);
        // HH's first dialogues all run past 24 GPT-2 tokens.
        Assert.All(batches.SelectMany(b => b), e => Assert.Equal(24, e.InputIds.Length));
    }

    [Fact]
    public void The_ppo_prompts_are_the_first_prompts_of_the_file()
    {
        var settings = Settings(batch: 1, maxLength: 32, steps: 1) with { PpoBatch = 5 };
        Assert.Equal(DatasetReader.ReadPrompts(HelpfulBase).Examples.Take(5), RealShapeBench.Prompts(settings));
    }

    [Fact]
    public void A_setting_below_one_is_a_one_line_error_even_beside_quick() =>
        CliRunner.AssertOneLineError(CliRunner.Run("bench", "real-shape", "--quick", "--sft-steps", "0"), "--sft-steps must be at least 1, got 0");

    [Fact]
    public void A_model_the_reference_cannot_build_is_a_one_line_error() =>
        CliRunner.AssertOneLineError(CliRunner.Run("bench", "real-shape", "--config", "qwen2.5-0.5b"), "--config must be a GPT-2 shape", "qwen2.5-0.5b");

    [Fact]
    public void Too_few_dialogues_for_the_steps_is_a_one_line_error()
    {
        string data = TrainingCommandTestsModels.HhSample(3);
        CliRunner.AssertOneLineError(CliRunner.Run("bench", "real-shape", "--quick", "--data", data), data, "3 dialogues, 4 needed");
    }

    [Fact]
    public void A_quick_run_prints_both_rows_with_peak_memory_and_writes_bench_json()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "real-shape", "--quick", "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("SFT 3.4M, HH batch 2 up to 32 tokens, 1 steps", result.Output);
        Assert.Contains("PPO iteration 3.4M, batch 2, 4 new tokens", result.Output);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        var cases = report.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(["tokens/s", "s"], cases.Select(c => c.GetProperty("unit").GetString()));
        Assert.All(cases, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("pytorch").ValueKind));
        // The tiny model's 3.4M float32 parameters alone are 13.6 MB resident.
        Assert.All(cases, c => Assert.True(c.GetProperty("details").GetProperty("peak_rss_mb").GetDouble() > 13.6));
        // 2 dialogues cut to 32 tokens: 64 tokens in the timed step.
        Assert.Equal(64, cases[0].GetProperty("details").GetProperty("tokens").GetInt64());
    }

    [Trait("Category", "Slow")] // starts the PyTorch reference twice
    [PytorchFact]
    public void A_quick_run_against_pytorch_gives_both_sides_the_same_losses_and_the_time_ratio_of_each_row()
    {
        string dir = TestPaths.NewTempDirectory();
        // Dialogues kept up to 256 tokens: rows of a batch differ in length, so padding and its -100 labels are compared too.
        var result = CliRunner.Run("bench", "real-shape", "--quick", "--sft-steps", "2", "--max-length", "256", "--compare-pytorch", "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("eager PyTorch", result.Output);
        Assert.Contains("(within 1e-4)", result.Output);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        Assert.True(report.RootElement.GetProperty("loss_check").GetProperty("passed").GetBoolean());
        var cases = report.RootElement.GetProperty("cases").EnumerateArray().ToList();
        var sft = cases[0];
        var details = sft.GetProperty("details");
        Assert.True(details.GetProperty("padded_tokens").GetInt64() > details.GetProperty("tokens").GetInt64(), "the timed batches hold padding");
        // Same weights, same batches: each timed step's loss (before its update) agrees between the sides.
        var ours = details.GetProperty("step_losses").EnumerateArray().Select(l => l.GetDouble()).ToList();
        var theirs = details.GetProperty("pytorch_step_losses").EnumerateArray().Select(l => l.GetDouble()).ToList();
        Assert.Equal(2, ours.Count);
        Assert.All(ours.Zip(theirs), pair => Assert.Equal(pair.First, pair.Second, 1e-4));
        // tokens/s: our time over PyTorch's is their rate over ours.
        Assert.Equal(sft.GetProperty("pytorch").GetDouble() / sft.GetProperty("ours").GetDouble(), sft.GetProperty("time_ratio").GetDouble(), 1e-9);
        var ppo = cases[1];
        Assert.Equal(ppo.GetProperty("ours").GetDouble() / ppo.GetProperty("pytorch").GetDouble(), ppo.GetProperty("time_ratio").GetDouble(), 1e-9);
        Assert.All(cases, c => Assert.True(c.GetProperty("details").GetProperty("pytorch_peak_rss_mb").GetDouble() > 13.6));
    }
}
