using System.Diagnostics;
using System.Text.RegularExpressions;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Generation;
using RlhfSharp.Training;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// --resume: the summary covers the whole run (also when the run had already finished), option changes that break the
/// continuation are refused and others warned about, and Ctrl-C says where the last checkpoint is.
/// </summary>
public class ResumeTests
{
    static string Policy => TrainingCommandTestsModels.TinyModel;

    static string[] Sft(string outDir, string data, int steps) =>
        ["sft", "--model", Policy, "--data", data, "--out", outDir, "--max-steps", $"{steps}", "--batch-size", "2", "--max-length", "48",
         "--learning-rate", "1e-3", "--eval-every", "2", "--save-every", "2", "--log-every", "1"];

    static string DoneLine(CliResult result) => Assert.Single(result.Output.Split('\n'), line => line.StartsWith("done: ", StringComparison.Ordinal));

    static CliResult Succeeds(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        return result;
    }

    [Fact]
    public void Resuming_a_finished_run_prints_its_final_summary_again()
    {
        string data = TrainingCommandTestsModels.HhSample(16), outDir = Path.Combine(TestPaths.NewTempDirectory(), "sft");
        string finished = DoneLine(Succeeds(Sft(outDir, data, 4)));
        Assert.Matches(@"^done: 4 steps; loss \d", finished);

        var again = Succeeds([.. Sft(outDir, data, 4), "--resume"]);
        Assert.Contains("had already finished at step 4", again.Output);
        Assert.Equal(finished, DoneLine(again));
        Assert.DoesNotContain("warning:", again.Output);
    }

    [Fact]
    public void The_ppo_summary_after_a_resume_starts_at_the_first_iteration_of_the_run()
    {
        string rm = Path.Combine(TestPaths.NewTempDirectory(), "rm"), prompts = TrainingCommandTestsModels.HhSample(16);
        Succeeds("reward", "--model", Policy, "--data", prompts, "--out", rm, "--max-steps", "1", "--batch-size", "2", "--max-length", "48");
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        string[] Ppo(int iterations) =>
            ["ppo", "--policy", Policy, "--reward-model", rm, "--prompts", prompts, "--out", outDir, "--max-steps", $"{iterations}", "--batch-size", "3",
             "--max-new-tokens", "5", "--max-length", "48", "--save-every", "1", "--eval-every", "100", "--eval-prompt-count", "2", "--ppo-epochs", "1"];

        static double FirstReward(string done) => double.Parse(Regex.Match(done, @"reward (-?\d+\.\d+) ->").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        string first = DoneLine(Succeeds(Ppo(2)));
        var extended = Succeeds([.. Ppo(4), "--resume"]);
        string resumed = DoneLine(extended);
        Assert.StartsWith("done: 4 iterations", resumed);
        var rows = MetricsWriter.ReadJsonl(Path.Combine(outDir, MetricsWriter.JsonlFileName));
        Assert.Equal([1L, 2, 3, 4], rows.Select(r => r.Step));
        Assert.Equal(FirstReward(first), FirstReward(resumed));
        Assert.Equal(Math.Round(rows[0].Values["reward_mean"], 4), FirstReward(resumed));
        Assert.Contains("warning: option --max-steps was 2 and is 4 now", extended.Output);

        var finished = Succeeds([.. Ppo(4), "--resume"]);
        Assert.Contains("had already finished at iteration 4", finished.Output);
        Assert.Equal(resumed, DoneLine(finished));
    }

    [Theory]
    [InlineData("--batch-size", "2", "3")]
    [InlineData("--seed", "42", "7")]
    [InlineData("--max-length", "48", "40")]
    [InlineData("--held-out-fraction", "0.05", "0.2")]
    public void Changing_an_option_the_checkpoint_depends_on_is_refused_and_changes_nothing(string option, string before, string after)
    {
        string data = TrainingCommandTestsModels.HhSample(16), outDir = Path.Combine(TestPaths.NewTempDirectory(), "sft");
        string[] run = Sft(outDir, data, 2);
        Succeeds(run);
        var files = Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList();

        int at = Array.IndexOf(run, option);
        string[] changed = at < 0 ? [.. run, option, after] : [.. run[..(at + 1)], after, .. run[(at + 2)..]];
        var refused = CliRunner.Run([.. changed, "--resume"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Single(refused.Error.Trim().Split('\n'));
        Assert.Contains($"option {option} was {before} and is {after} now", refused.Error);
        Assert.Equal(files, Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList());
    }

    [Fact]
    public void Changing_the_learning_rate_is_warned_about_and_the_cadence_is_not()
    {
        string data = TrainingCommandTestsModels.HhSample(16), outDir = Path.Combine(TestPaths.NewTempDirectory(), "sft");
        string[] run = Sft(outDir, data, 2);
        Succeeds(run);
        string[] changed = [.. run.Select(a => a == "1e-3" ? "2e-3" : a)];
        changed[Array.IndexOf(changed, "--eval-every") + 1] = "3";
        changed[Array.IndexOf(changed, "--max-steps") + 1] = "3";
        var resumed = Succeeds([.. changed, "--resume"]);
        Assert.Contains("warning: option --learning-rate was 0.001 and is 0.002 now; the run continues with the new value", resumed.Output);
        Assert.Contains("warning: option --max-steps was 2 and is 3 now", resumed.Output);
        Assert.DoesNotContain("--eval-every", resumed.Output);
        Assert.Contains("done: 3 steps", resumed.Output);
    }

    [Fact]
    public void Resume_rules_refuse_what_the_saved_state_depends_on_and_warn_on_the_rest()
    {
        var saved = new SftOptions();
        var changed = new SftOptions { BatchSize = 4, Seed = 1, MaxLength = 100, LearningRate = 1e-3, MaxSteps = 10, LogEvery = 3, FreezeBottomLayers = 1 };
        var rules = ResumeCompatibility.Changes(saved, changed).ToDictionary(c => c.Key, c => c.Rule);
        Assert.Equal(new Dictionary<string, ResumeRule>
        {
            ["batch_size"] = ResumeRule.Refuse, ["seed"] = ResumeRule.Refuse, ["max_length"] = ResumeRule.Refuse, ["freeze_bottom_layers"] = ResumeRule.Refuse,
            ["learning_rate"] = ResumeRule.Warn, ["max_steps"] = ResumeRule.Warn, ["log_every"] = ResumeRule.Free,
        }, rules);
        Assert.Empty(ResumeCompatibility.Changes(new PpoOptions(), new PpoOptions { Sampling = new SamplingOptions { StopSequences = ["\n\nHuman:"] } }));

        var ppo = ResumeCompatibility.Changes(new PpoOptions(), new PpoOptions { MaxLength = 100, SeparateValueModel = true, SamplesEvery = 3, Sampling = PpoOptions.RolloutSampling with { Temperature = 0.5 } })
            .ToDictionary(c => c.Key, c => c.Rule);
        Assert.Equal(ResumeRule.Warn, ppo["max_length"]); // prompts are batched by their text, not their tokens
        Assert.Equal(ResumeRule.Refuse, ppo["separate_value_model"]);
        Assert.Equal(ResumeRule.Free, ppo["samples_every"]);
        Assert.Equal(ResumeRule.Warn, ppo["temperature"]);
    }

    [Fact]
    public void The_interrupt_notice_names_the_last_checkpoint_and_how_to_continue()
    {
        Assert.Equal("interrupted after step 7; last checkpoint runs/x/checkpoints/step-00000006; continue with the same command plus --resume",
            InterruptNotice.Message("step", 7, "runs/x/checkpoints/step-00000006", 2, resumed: false));
        Assert.Equal("interrupted after iteration 3; last checkpoint c/step-00000002; continue with the same command",
            InterruptNotice.Message("iteration", 3, "c/step-00000002", 2, resumed: true));
        Assert.Equal("interrupted after step 3, before the first checkpoint (one every 500 steps); nothing to resume from: the same command plus --resume starts the run over",
            InterruptNotice.Message("step", 3, null, 500, resumed: false));
    }

    /// <summary>env --default-signal: the test host may have been started with SIGINT ignored, which a child would inherit.</summary>
    [Fact]
    public async Task Ctrl_c_prints_the_last_checkpoint_and_exits_130()
    {
        string data = TrainingCommandTestsModels.HhSample(16), outDir = Path.Combine(TestPaths.NewTempDirectory(), "sft");
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot };
        foreach (string arg in (string[])["--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "rlhf.dll"), .. Sft(outDir, data, 1_000_000)])
            start.ArgumentList.Add(arg);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        bool checkpointed = false, stopped = false;
        try
        {
            var checkpoints = new TrainingCheckpoints(outDir);
            var waited = Stopwatch.StartNew();
            while (checkpoints.Latest is null && !process.HasExited && waited.Elapsed < TimeSpan.FromMinutes(5)) await Task.Delay(100);
            checkpointed = checkpoints.Latest is not null;
            if (checkpointed)
            {
                using (var kill = Process.Start("kill", ["-INT", $"{process.Id}"])) await kill.WaitForExitAsync();
                stopped = process.WaitForExit(TimeSpan.FromMinutes(3));
            }
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        string error = await stderr, output = await stdout;
        Assert.True(checkpointed, $"no checkpoint appeared: {error}{output}");
        Assert.True(stopped, "the run did not stop on SIGINT");

        Assert.Equal(130, process.ExitCode);
        var notice = Regex.Match(error, @"interrupted after step (\d+); last checkpoint (\S+); continue with the same command plus --resume");
        Assert.True(notice.Success, error);
        Assert.True(Directory.Exists(notice.Groups[2].Value), notice.Groups[2].Value);
        Assert.StartsWith(Path.Combine(outDir, "checkpoints", "step-"), notice.Groups[2].Value);
        Assert.True(long.Parse(notice.Groups[1].Value) >= 2);
    }
}
