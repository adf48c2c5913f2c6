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
        var result = CliRunner.Run("bench", "generation", "--config", "23m", "--repeats", "1", "--batch", "2", "--new-tokens", "4", "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("decode 23.6M, batch 2", result.Output);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        var cases = report.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(["fp32 matmul peak", "decode 23.6M, batch 2"], cases.Select(c => c.GetProperty("case").GetString()));
        Assert.Matches(@"^step \d+\.\d\d ms \(\d+% of the bound's \d+\.\d\d ms\), last/first token \d+\.\d\dx, peak RSS \d+ MB, bandwidth bound \d+ tokens/s at \d+\.\d GB/s, ours \d+%$",
            cases[1].GetProperty("notes").GetString());
        var details = cases[1].GetProperty("details");
        // 23.6M float32 parameters are 94 MB resident before the first token.
        Assert.True(details.GetProperty("peak_rss_mb").GetDouble() > 94);
        // The streaming read covers the weights a step reads (all but GPT-2's position table: see DecodeBoundTests).
        Assert.Equal(92_438_528, details.GetProperty("weight_bytes_per_step").GetInt64());
        double bandwidth = details.GetProperty("memory_gb_per_s").GetDouble(), bound = details.GetProperty("bound_tokens_per_s").GetDouble();
        Assert.True(bandwidth > 0.1, $"{bandwidth} GB/s");
        // 2 rows, 16 prompt tokens, 4 new: 2 · bandwidth / (92,438,528 + 2 · 24,576 · (16 + 1.5)) tokens/s.
        Assert.Equal(2 * bandwidth * 1e9 / (92_438_528 + 2 * 24_576 * 17.5), bound, 6);
        Assert.Equal(cases[1].GetProperty("ours").GetDouble() / bound, details.GetProperty("bound_share").GetDouble(), 6);
        // A step's bytes at the measured bandwidth, in ms, and the median step's share of it.
        double boundStepMs = details.GetProperty("bound_step_ms").GetDouble();
        Assert.Equal((92_438_528 + 2 * 24_576 * 17.5) / (bandwidth * 1e9) * 1e3, boundStepMs, 6);
        Assert.Equal(boundStepMs / details.GetProperty("median_step_ms").GetDouble(), details.GetProperty("step_bound_share").GetDouble(), 6);
        Assert.False(details.TryGetProperty("modules_seconds", out _), "batch 2 has no fused step to compare");
        Assert.Equal(JsonValueKind.Null, report.RootElement.GetProperty("pytorch").ValueKind);
    }

    [Trait("Category", "Slow")] // times generation runs
    [Fact]
    public void Batch_one_times_the_fused_step_and_the_module_path_in_one_run()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "generation", "--config", "23m", "--repeats", "2", "--batch", "1", "--new-tokens", "4", "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        var cases = report.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(["fp32 matmul peak", "decode 23.6M, batch 1", "decode 23.6M, batch 1, modules (RLHF_DECODE=modules)"],
            cases.Select(c => c.GetProperty("case").GetString()));
        Assert.Matches(@", fused step \d+\.\d\dx the modules' tokens/s$", cases[1].GetProperty("notes").GetString());
        var fused = cases[1].GetProperty("details");
        var modules = cases[2].GetProperty("details");
        // The fused row carries the module row's runs; the ratio is the modules' median seconds over the fused median.
        Assert.Equal(Seconds(modules), Seconds(fused, "modules_seconds"));
        Assert.Equal(Median(Seconds(modules)) / Median(Seconds(fused)), fused.GetProperty("fused_over_modules_tokens_per_s").GetDouble(), 6);

        static double[] Seconds(JsonElement details, string name = "seconds") => [.. details.GetProperty(name).EnumerateArray().Select(e => e.GetDouble())];
        static double Median(double[] values) => values.Order().ElementAt(values.Length / 2) / 2 + values.Order().ElementAt((values.Length - 1) / 2) / 2;
    }

    [Trait("Category", "Slow")] // builds a 2 GB model
    [Fact]
    public void The_qwen_shaped_decode_row_has_the_real_models_size_and_its_peak_memory()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "generation", "--config", "qwen2.5-0.5b", "--repeats", "1", "--batch", "1", "--prompt-tokens", "4",
            "--new-tokens", "2", "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        var row = report.RootElement.GetProperty("cases")[1];
        // Qwen2.5-0.5B has 494,032,768 parameters, its q/k/v biases included.
        Assert.Equal("decode 494.0M Qwen2.5-0.5B-shaped, batch 1", row.GetProperty("case").GetString());
        Assert.True(row.GetProperty("details").GetProperty("peak_rss_mb").GetDouble() >= 494_032_768 * 4 / 1e6, "the weights alone are resident");
    }

    [Trait("Category", "Slow")] // builds a 4.9 GB model
    [Fact]
    public void The_llama_shaped_decode_row_has_the_real_models_size()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "generation", "--config", "llama3.2-1b", "--repeats", "1", "--batch", "1", "--prompt-tokens", "4",
            "--new-tokens", "2", "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")));
        // Llama-3.2-1B has 1,235,814,400 parameters, its tied embedding counted once.
        Assert.Equal("decode 1235.8M Llama-3.2-1B-shaped, batch 1", report.RootElement.GetProperty("cases")[1].GetProperty("case").GetString());
    }

    [Fact]
    public void Generation_times_the_qwen_shape_beside_gpt2_by_default()
    {
        var help = CliRunner.Run("bench", "generation", "--help");
        Assert.Contains("23m and qwen2.5-0.5b for generation", help.Output);
    }

    [Fact]
    public void An_unknown_model_size_is_a_one_line_error()
    {
        var result = CliRunner.Run("bench", "training", "--config", "7b");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--config must be one of 23m, 98m, 124m, qwen2.5-0.5b, llama3.2-1b, tiny, got '7b'", result.Error);
    }
}

public class PlanBenchTests
{
    [Trait("Category", "Slow")] // builds a 124M-parameter model in a second process
    [Fact]
    public void Bench_plan_measures_each_case_in_its_own_process_beside_the_estimate()
    {
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "plan", "--case", "sft-full", "--sequence", "16", "--batch-size", "1", "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("bench: plan, sft full (a fresh process)", result.Error);
        Assert.Contains("│ sft full │ 1 x 16 ", result.Output);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench-plan.json")));
        var row = Assert.Single(report.RootElement.EnumerateArray().ToList());
        long estimate = row.GetProperty("estimate_bytes").GetInt64(), measured = row.GetProperty("measured_bytes").GetInt64();
        // The weights, gradients and two moments of GPT-2 small alone are 4 x 124,439,808 x 4 bytes, in both.
        Assert.True(estimate > 4 * 124_439_808L * 4 && measured > 4 * 124_439_808L * 4, $"estimate {estimate}, measured {measured}");
        Assert.Equal(Math.Round(measured / (double)estimate, 3), row.GetProperty("ratio").GetDouble());
        Assert.True(row.GetProperty("runtime_bytes").GetInt64() > 0, "the child read its resident memory before building the model");
    }

    [Fact]
    public void A_failed_case_is_reported_by_its_exception_line_not_the_last_stack_frame()
    {
        const string crash = "Unhandled exception. System.OutOfMemoryException: Insufficient memory to continue the execution of the program.\n" +
            "   at TorchSharp.torch.Tensor.matmul(Tensor target)\n   at Program.<Main>$(String[] args) in /src/Program.cs:line 3\n";
        Assert.Equal("Unhandled exception. System.OutOfMemoryException: Insufficient memory to continue the execution of the program.",
            RlhfSharp.Cli.Benchmarks.PlanBench.FailureLine(crash));
        Assert.Equal("error: bench plan: no case 'x'", RlhfSharp.Cli.Benchmarks.PlanBench.FailureLine("warning: slow\nerror: bench plan: no case 'x'\n"));
        Assert.Equal("Killed", RlhfSharp.Cli.Benchmarks.PlanBench.FailureLine("Killed\n"));
        Assert.Equal("no message", RlhfSharp.Cli.Benchmarks.PlanBench.FailureLine(""));
    }

    [Fact]
    public void An_unknown_bench_plan_case_is_a_one_line_error() =>
        CliRunner.AssertOneLineError(CliRunner.Run("bench", "plan", "--case", "dpo-full"), "option --case is dpo-full: must be one of sft-full, sft-hydra, sft-lora, ppo-full, ppo-hydra, ppo-lora");
}

public class PackingBenchTests
{
    /// <summary>On HH lengths (cut to 48 tokens for the tiny model's context of 64), packing never leaves more padding than
    /// padding does, and the bench's own check finds the same loss both ways.</summary>
    [Fact]
    public void Bench_packing_reports_padding_shares_and_the_same_loss_padded_and_packed()
    {
        string model = Models.TinyModels.SavedWithGpt2Tokenizer("gpt2");
        string dir = TestPaths.NewTempDirectory();
        var result = CliRunner.Run("bench", "packing", "--model", model, "--max-length", "48", "--batch-size", "4", "--steps", "1", "--repeats", "1",
            "--out", dir, "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench-packing.json")));
        var results = report.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["sft", "reward"], results.Select(r => r.GetProperty("Trainer").GetString()));
        foreach (var r in results)
        {
            double padded = r.GetProperty("PaddedShare").GetDouble(), packed = r.GetProperty("PackedShare").GetDouble();
            double fileOrder = r.GetProperty("FileOrderShare").GetDouble(), fileOrderPacked = r.GetProperty("FileOrderPackedShare").GetDouble();
            Assert.InRange(packed, 0, padded);
            Assert.InRange(fileOrderPacked, 0, fileOrder);
            // Batches in file order waste more than length-grouped ones, and length order least.
            Assert.True(fileOrder > padded, $"file order {fileOrder}, grouped {padded}");
            Assert.InRange(r.GetProperty("LengthOrderShare").GetDouble(), 0, padded);
            Assert.InRange(r.GetProperty("LossDifference").GetDouble(), 0, 1e-5);
        }
    }
}
