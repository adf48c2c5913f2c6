using System.Text.Json;
using RlhfSharp.Cli.Benchmarks;
using RlhfSharp.Data;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Benchmarks;

public class CheckpointingBenchTests
{
    static string HelpfulBase => TestPaths.Shared("hh-rlhf", "helpful-base", "test.jsonl.gz");

    [Fact]
    public void The_rows_are_hh_dialogues_in_gpt2_tokens_each_closed_by_end_of_text()
    {
        var rows = CheckpointingBench.DialogueRows(HelpfulBase, batch: 3, sequence: 40);
        Assert.Equal(3, rows.Length);
        Assert.All(rows, row => Assert.Equal(40, row.Length));
        var first = DatasetReader.ReadPreferences(HelpfulBase).Examples[0];
        var expected = TokenizerLoader.Gpt2BuiltIn().Encode(first.Prompt + first.Chosen).Append(50256).Take(120).ToArray();
        Assert.Equal(expected, rows.SelectMany(row => row).Take(expected.Length).ToArray());
    }

    [Fact]
    public void Too_little_text_for_the_batch_is_a_one_line_error()
    {
        string data = TrainingCommandTestsModels.HhSample(2);
        var result = CliRunner.Run("bench", "checkpointing", "--data", data, "--batch-size", "8", "--sequence", "512");
        CliRunner.AssertOneLineError(result, data, "fewer than the 8 x 512");
    }

    [Trait("Category", "Slow")] // steps a 124M-parameter model four times
    [Fact]
    public void The_checkpointing_row_compares_peak_memory_and_step_time_in_one_run()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "checkpointing", "--data", HelpfulBase, "--batch-size", "1", "--sequence", "64", "--repeats", "1", "--out", dir);
        Assert.True(result.ExitCode == 0, result.Error);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        var row = Assert.Single(report.RootElement.GetProperty("cases").EnumerateArray());
        Assert.Equal("SFT step 124.4M GPT-2-124M-shaped, 1x64, gradient checkpointing", row.GetProperty("case").GetString());
        var details = row.GetProperty("details");
        // Weights, gradients and AdamW's two moments: 16 bytes a parameter are resident at the peak either way.
        Assert.True(row.GetProperty("ours").GetDouble() > 124_439_808 * 16 / 1e6);
        Assert.True(details.GetProperty("peak_ratio").GetDouble() is > 0 and < 1.5);
        Assert.True(details.GetProperty("time_ratio").GetDouble() > 0);
        Assert.Equal(1, details.GetProperty("checkpointed_step_seconds").GetArrayLength());
    }
}
