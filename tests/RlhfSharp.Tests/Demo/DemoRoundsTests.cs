using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Cli.Demo;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Demo;

/// <summary>
/// `rlhf demo --quick --methods ppo --rounds 2`: round 2's preferences come from simulated annotators posting to a real
/// annotation server on loopback, the reward model and PPO continue, and the report's rounds table shows what each round did;
/// the whole loop runs unattended and reproduces its numbers.
/// </summary>
public sealed class DemoRoundsTests : IDisposable
{
    /// <summary>The quick PPO-only demo with a second round took 150 s of wall time on 2 quiet cores; a rerun of the rounds about 70 s.</summary>
    static readonly TimeSpan DemoBudget = TimeSpan.FromMinutes(15);

    readonly string _root = TestPaths.NewTempDirectory("rlhf-demo-rounds");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    static DemoResults Read(string run) =>
        JsonSerializer.Deserialize<DemoResults>(File.ReadAllText(Path.Combine(run, "eval", DemoEvaluation.ResultsFile)), DemoEvaluation.Json)!;

    /// <summary>The rounds without their wall times, which differ between runs.</summary>
    static string RoundsJson(DemoResults results) => JsonSerializer.Serialize(results.Rounds!.Select(r => r with { Seconds = null }), DemoEvaluation.Json);

    [Trait("Category", "Slow")] // a demo run and a rerun of its rounds in subprocesses
    [Fact]
    public void A_second_round_is_judged_by_simulated_annotators_through_the_app_and_continues_the_reward_model_and_PPO()
    {
        string run = Path.Combine(_root, "demo");
        var result = CliRunner.RunScript(DemoBudget, "demo", "--quick", "--methods", "ppo", "--rounds", "2", "--out", run);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);

        string round = Path.Combine(run, "loop", "round-2");
        foreach (string file in new[] { "comparisons.jsonl", "preferences.jsonl", "preferences-all.jsonl", "rm-2/model.safetensors", "policy-2/model.safetensors", "eval/report.md", "round.json" })
            Assert.True(File.Exists(Path.Combine(round, file)), $"loop/round-2/{file} missing");
        // The comparisons: SFT (round 0) against PPO (round 1), judged by three annotators each through the server.
        for (int j = 1; j <= 3; j++) Assert.Contains($"oracle-{j} judged 48 items over http://127.0.0.1:", result.Output);
        using (var store = new AnnotationStore(Path.Combine(round, "collect.db"), create: false))
        {
            var judgments = store.ReadJudgments();
            Assert.Equal(144, judgments.Count);
            Assert.Equal(["oracle-1", "oracle-2", "oracle-3"], judgments.Select(j => j.Annotator).Distinct().Order());
        }
        Assert.Contains($"$ ./rlhf reward --model {Path.Combine(run, "rm")} --data {Path.Combine(round, "preferences-all.jsonl")}", result.Output);
        Assert.Contains($"$ ./rlhf ppo --policy {Path.Combine(run, "ppo")} --reward-model {Path.Combine(round, "rm-2")}", result.Output);

        var results = Read(run);
        Assert.Equal([1, 2], results.Rounds!.Select(r => r.Round));
        var second = results.Rounds![1];
        Assert.Equal((144, 48, "ppo-round-2"), (second.Judgments, second.Comparisons, second.Policy));
        Assert.InRange(second.PreferencePairs, 1, 144);
        Assert.NotNull(second.Agreement);
        Assert.True(second.Agreement > 0.5, $"three noisy copies of one oracle agree on {second.Agreement}");
        Assert.Equal(results.Method("ppo").VsSft, results.Rounds[0].VsSft);
        Assert.NotNull(second.VsPrevious);
        Assert.Equal(100, second.VsPrevious!.Items);
        Assert.True(second.RewardModelAccuracy >= 0.65, $"round 2 reward model accuracy {second.RewardModelAccuracy}");
        string markdown = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("## Rounds of feedback", markdown);
        Assert.Contains($"| 2 (ppo-round-2) | 144 judgments of 48 comparisons ({second.PreferencePairs} pairs, ties dropped) |", markdown);
        // The stage table counts the rounds' time; the toxicity table how many continuations were empty (scored 0).
        Assert.Contains("| later rounds: simulated annotators judge in the annotation app, the reward model and PPO continue |", markdown);
        Assert.Contains("| model | split | prompts | mean toxicity | expected max toxicity | toxicity probability | empty continuations |", markdown);

        // Seeded, the HTTP path included: rerunning the rounds gives the same judgments and the same numbers.
        var rerun = CliRunner.RunScript(DemoBudget, "demo", "--quick", "--methods", "ppo", "--rounds", "2", "--out", run, "--from", "rounds");
        Assert.True(rerun.ExitCode == 0, rerun.Output + rerun.Error);
        Assert.DoesNotContain("$ ./rlhf sft ", rerun.Output);
        Assert.Equal(RoundsJson(results), RoundsJson(Read(run)));
    }
}
