using System.Text.Json;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Benchmarks;

public class BenchCommandTests
{
    [Trait("Category", "Slow")] // times generation runs
    [Fact]
    public void Generation_bench_prints_a_table_and_writes_bench_json()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "generation", "--repeats", "1", "--batch", "2", "--new-tokens", "4", "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("decode 23.6M, batch 2", result.Output);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        var cases = report.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("case").GetString()).ToList();
        Assert.Equal(["fp32 matmul peak", "decode 23.6M, batch 2"], cases);
        Assert.Equal(JsonValueKind.Null, report.RootElement.GetProperty("pytorch").ValueKind);
    }

    [Fact]
    public void An_unknown_model_size_is_a_one_line_error()
    {
        var result = CliRunner.Run("bench", "training", "--config", "7b");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--config must be one of 23m, 98m", result.Error);
    }
}
