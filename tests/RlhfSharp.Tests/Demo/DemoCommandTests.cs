using System.Text.Json;
using RlhfSharp.Cli.Demo;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Demo;

/// <summary>
/// `rlhf demo --quick` end to end, as a user runs it (./rlhf in its own process): every stage's Hugging Face
/// checkpoint, each method compared with SFT and with each other, the report's comparison table, looser quality bars than
/// the full demo's, and a rerun of one method's stage that reproduces the same numbers.
/// </summary>
public sealed class DemoCommandTests : IDisposable
{
    /// <summary>
    /// Each ./rlhf demo call's budget. The first run's stages take 113 s of CPU (113 s of wall time with the load average
    /// at 8, PPO, DPO and GRPO included), the rerun of the DPO stage, the evaluation and the report about 20 s; the whole
    /// test took 139 s of CPU. 15 minutes is 8 times the first run, so the test survives the rest of the suite and builds
    /// sharing the cores (it timed out at 5 minutes there).
    /// </summary>
    static readonly TimeSpan DemoBudget = TimeSpan.FromMinutes(15);

    readonly string _root = TestPaths.NewTempDirectory("rlhf-demo");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Trait("Category", "Slow")] // two demo runs in subprocesses
    [Fact]
    public void Quick_demo_runs_every_stage_writes_the_report_and_reproduces_its_numbers()
    {
        string run = Path.Combine(_root, "demo");
        var result = CliRunner.RunScript(DemoBudget, "demo", "--quick", "--out", run);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);

        var methods = DemoStages.DefaultMethods.Select(m => m.Name()).ToList();
        foreach (string model in new[] { "init", "base", "sft", "rm" }.Concat(methods))
            foreach (string file in new[] { "config.json", "model.safetensors", "tokenizer.json" })
                Assert.True(File.Exists(Path.Combine(run, model, file)), $"{model}/{file} missing");
        foreach (string file in new[] { "report.html", "report.md", "eval/toxicity/toxicity.json", "ppo/reward_curve.png", "ppo/metrics.jsonl", "data/prefs.jsonl",
                     "dpo/accuracy_curve.png", "dpo/reference_logps.safetensors", "grpo/reward_curve.png", "grpo/metrics.jsonl" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing");
        // One blind comparison per method against SFT and per pair of methods.
        var pairs = methods.Select(m => ("sft", m)).Concat(methods.SelectMany((a, i) => methods.Skip(i + 1).Select(b => (b, a))));
        foreach (var (a, b) in pairs)
            foreach (string file in new[] { "comparisons.jsonl", "judgments.jsonl" })
                Assert.True(File.Exists(Path.Combine(run, "eval", "pairwise", $"{a}-vs-{b}", file)), $"eval/pairwise/{a}-vs-{b}/{file} missing");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "ppo", "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories));

        var results = Read(run);
        Assert.Equal(methods, results.Methods);
        Assert.Equal(methods, results.Compared.Select(m => m.Method));
        Assert.Equal(methods.Count * (methods.Count - 1) / 2, results.HeadToHead.Count);
        Assert.Equal(["sft", .. methods], results.Styles.Keys);
        string html = File.ReadAllText(Path.Combine(run, "report.html")), markdown = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("| method | wins / ties / losses vs SFT | reward-model score | KL to SFT (nats) | mean toxicity | training wall time |", markdown);
        Assert.Contains("<th>wins / ties / losses vs SFT</th>", html);
        foreach (var m in results.Compared)
        {
            // The comparison table's row: W/T/L, reward-model score, KL, toxicity and the stage's wall time.
            Assert.Contains($"| {m.Method.ToUpperInvariant()} | {m.VsSft.Wins} / {m.VsSft.Ties} / {m.VsSft.Losses} | {m.RewardModelScore:F2} | " +
                $"{m.KlToSft:F2} ± {m.KlStandardError:F2} | {m.Toxicity.Mean:F3} | {m.TrainingSeconds:F0} s |", markdown);
            Assert.True(m.TrainingSeconds > 0, $"{m.Method}: no wall time");
            // A trained policy has moved away from SFT: a positive KL, well outside its error.
            Assert.True(m.KlToSft > 3 * m.KlStandardError, $"{m.Method}: KL {m.KlToSft} +/- {m.KlStandardError}");
        }
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains("./rlhf annotate serve", markdown);

        // Looser bars than the full demo's: a 100-second run trains models that barely know the facts, but every stage must
        // still do its job: a reward model well above chance, a rising reward, and policies no worse than SFT.
        var ppo = results.Method("ppo");
        Assert.Equal(100, ppo.VsSft.Prompts);
        Assert.True(results.RewardModel.HeldOutAccuracy >= 0.65, $"reward model accuracy {results.RewardModel.HeldOutAccuracy}");
        foreach (var m in results.Compared)
            Assert.True(m.VsSft.Wins + m.VsSft.Ties >= 75, $"{m.Method} at least as good on {m.VsSft.Wins + m.VsSft.Ties}");
        Assert.True(results.Ppo!.LastReward > results.Ppo.FirstReward, $"reward {results.Ppo.FirstReward} -> {results.Ppo.LastReward}");
        Assert.True(results.Dpo!.LastLoss < results.Dpo.FirstLoss, $"DPO loss {results.Dpo.FirstLoss} -> {results.Dpo.LastLoss}");
        Assert.True(results.Dpo.HeldOutAccuracy > 0.6, $"DPO held-out accuracy {results.Dpo.HeldOutAccuracy}");
        // GRPO's rule reward fires: the fact questions' answers reach it from the prompt file.
        Assert.True(results.Grpo!.LastRuleReward > 0, $"GRPO rule reward {results.Grpo.FirstRuleReward} -> {results.Grpo.LastRuleReward}");
        Assert.True(ppo.Toxicity.Mean <= results.Toxicity.SftMean + 0.02, $"toxicity {results.Toxicity.SftMean} -> {ppo.Toxicity.Mean}");
        Assert.True(results.Styles["ppo"][ResponseStyle.Rude] <= results.Styles["sft"][ResponseStyle.Rude], "PPO is ruder than SFT");

        // Seeded: rerunning one method's stage retrains it to the same numbers, reusing every other stage.
        var rerun = CliRunner.RunScript(DemoBudget, "demo", "--quick", "--out", run, "--from", "dpo");
        Assert.True(rerun.ExitCode == 0, rerun.Output + rerun.Error);
        Assert.Contains($"reusing stages data, pretrain, sft, reward, ppo, grpo from {run}", rerun.Output);
        Assert.Contains("$ ./rlhf dpo ", rerun.Output);
        Assert.DoesNotContain("$ ./rlhf ppo ", rerun.Output);
        Assert.Equal(Json(results), Json(Read(run)));
    }

    [Fact]
    public void Bad_requests_fail_with_one_line_and_touch_nothing()
    {
        string run = Path.Combine(_root, "other");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "notes.txt"), "mine");

        var notDemo = CliRunner.Run("demo", "--quick", "--out", run);
        Assert.Equal(1, notDemo.ExitCode);
        Assert.Equal($"error: {run}: folder is not empty and holds no demo run; choose a new --out", notDemo.Error.Trim());

        var badStage = CliRunner.Run("demo", "--quick", "--out", Path.Combine(_root, "new"), "--from", "pretraining");
        Assert.Equal(1, badStage.ExitCode);
        Assert.Contains("--from: unknown stage 'pretraining'; stages are data, pretrain, sft, reward, ppo, dpo, grpo, rounds, evaluate, report", badStage.Error);

        var badMethod = CliRunner.Run("demo", "--quick", "--out", Path.Combine(_root, "new"), "--methods", "ppo,rlhf");
        Assert.Equal(1, badMethod.ExitCode);
        Assert.StartsWith("error: --methods: unknown method 'rlhf'; methods are ppo, dpo, grpo", badMethod.Error.Trim(), StringComparison.Ordinal);

        var notStarted = CliRunner.Run("demo", "--quick", "--out", Path.Combine(_root, "new"), "--from", "ppo");
        Assert.Equal(1, notStarted.ExitCode);
        Assert.Contains("stage 'data' has not finished", notStarted.Error);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(run).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(_root, "new")));
    }

    /// <summary>The results without the wall times, which differ between runs.</summary>
    static string Json(DemoResults results) =>
        JsonSerializer.Serialize(results with { Compared = [.. results.Compared.Select(m => m with { TrainingSeconds = null })], Sft = results.Sft with { TrainingSeconds = null } },
            DemoEvaluation.Json);

    static DemoResults Read(string run) =>
        JsonSerializer.Deserialize<DemoResults>(File.ReadAllText(Path.Combine(run, "eval", DemoEvaluation.ResultsFile)), DemoEvaluation.Json)!;
}
