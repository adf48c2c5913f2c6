using System.Text.Json.Nodes;
using RlhfSharp.Annotation;
using RlhfSharp.Data;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Loop;

/// <summary>`rlhf loop` with automated judges (reward models posting to a real server): rounds, their state, resuming and refusals.</summary>
[Trait("Category", "Slow")] // several rounds of in-process training
public class LoopCommandTests
{
    static CliResult Loop(string outDir, params string[] more) =>
        CliRunner.Run(LoopFixture.Args(outDir, ["--judge-reward-model", LoopFixture.RewardModel, "--judge-reward-model", LoopFixture.RewardModel, .. more]));

    static int JudgmentsIn(string db)
    {
        using var store = new AnnotationStore(db, create: false);
        return store.ReadJudgments().Count;
    }

    [Fact]
    public void Two_rounds_run_unattended_each_continuing_the_last_and_a_rerun_adds_a_round_without_redoing_one()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "loop");
        var first = Loop(outDir, "--rounds", "1");
        Assert.True(first.ExitCode == 0, first.Error + first.Output);
        string round1 = Path.Combine(outDir, "round-1");

        // Round 1: two samples of round 0's policy on 4 fresh prompts, judged by both automated judges through the server.
        var comparisons = ComparisonFile.Read(Path.Combine(round1, "comparisons.jsonl"));
        Assert.Equal(4, comparisons.Count);
        Assert.Equal(comparisons[0].ModelA, comparisons[0].ModelB);
        Assert.True(comparisons.Count(c => c.ResponseA != c.ResponseB) >= 3, "the second sample draws from other streams");
        Assert.Equal(8, JudgmentsIn(Path.Combine(round1, "collect.db")));
        Assert.Contains("reward-model:", first.Output);
        Assert.Contains("judged 4 items over http://127.0.0.1:", first.Output);

        // The judgments became pairs, appended to round 0's in one layout; the reward model continued from round 0's.
        int fresh = File.ReadAllLines(Path.Combine(round1, "preferences.jsonl")).Length;
        int earlier = DatasetReader.ReadPreferences(LoopFixture.Hh).Examples.Count;
        Assert.InRange(fresh, 1, 8);
        var all = File.ReadAllLines(Path.Combine(round1, "preferences-all.jsonl"));
        Assert.Equal(earlier + fresh, all.Length);
        Assert.All(all, line => Assert.NotNull(JsonNode.Parse(line)!["prompt"]));
        Assert.Contains($"$ ./rlhf reward --model {LoopFixture.RewardModel} --data {Path.Combine(round1, "preferences-all.jsonl")}", first.Output);
        Assert.Contains($"$ ./rlhf ppo --policy {LoopFixture.Policy} --reward-model {Path.Combine(round1, "rm-1")}", first.Output);
        Assert.True(File.Exists(Path.Combine(round1, "policy-1", "model.safetensors")));

        // The evaluation: the new policy against round 0's on held-out prompts, judged twice each, reported.
        var evaluation = ComparisonFile.Read(Path.Combine(round1, "eval", "comparisons.jsonl"));
        Assert.Equal((3, "policy-1"), (evaluation.Count, evaluation[0].ModelB));
        Assert.Equal(6, JudgmentsIn(Path.Combine(round1, "eval", "annotations.db")));
        Assert.True(File.Exists(Path.Combine(round1, "eval", "report.md")));
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(round1, "round.json")))!;
        Assert.Equal(["sample", "collect", "reward", "train", "evaluate"], record["stage_seconds"]!.AsObject().Select(p => p.Key));
        Assert.Equal(8, (int)record["collected"]!["judgments"]!);
        Assert.Equal(1.0, (double)record["collected"]!["observed_agreement"]!); // two copies of one reward model always agree
        string roundOne = File.ReadAllText(Path.Combine(round1, "round.json"));

        // More rounds continue the run: round 1 is not redone, round 2 samples round 1's policy against round 0's.
        var second = Loop(outDir, "--rounds", "2");
        Assert.True(second.ExitCode == 0, second.Error + second.Output);
        Assert.DoesNotContain("round 1:", second.Output);
        Assert.Equal(roundOne, File.ReadAllText(Path.Combine(round1, "round.json")));
        Assert.Equal(8, JudgmentsIn(Path.Combine(round1, "collect.db")));
        var round2 = ComparisonFile.Read(Path.Combine(outDir, "round-2", "comparisons.jsonl"));
        Assert.Equal("policy-1", round2[0].ModelB);
        Assert.NotEqual(round2[0].ModelA, round2[0].ModelB);
        Assert.Empty(round2.Select(c => c.Prompt).Intersect(comparisons.Select(c => c.Prompt))); // fresh prompts
        Assert.Contains($"$ ./rlhf reward --model {Path.Combine(round1, "rm-1")} --data {Path.Combine(outDir, "round-2", "preferences-all.jsonl")}", second.Output);
        Assert.Equal("policy-2", ComparisonFile.Read(Path.Combine(outDir, "round-2", "eval", "comparisons.jsonl"))[0].ModelB);
        var table = File.ReadAllLines(Path.Combine(outDir, "rounds.md"));
        Assert.Equal(4, table.Length);
        Assert.StartsWith("| 2 | 4 | 8 | 100%", table[3]);
        Assert.Contains("policy-2 vs policy-1: ", table[3]);
    }

    [Fact]
    public void A_stopped_round_resumes_at_its_first_unfinished_stage_with_its_judgments_kept()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "loop");
        Assert.Equal(0, Loop(outDir).ExitCode);
        string round1 = Path.Combine(outDir, "round-1"), recordFile = Path.Combine(round1, "round.json");
        string evalComparisons = File.ReadAllText(Path.Combine(round1, "eval", "comparisons.jsonl"));
        // As if it stopped during the evaluation: the stage is not recorded and its report is missing.
        var record = JsonNode.Parse(File.ReadAllText(recordFile))!;
        record["stage_seconds"]!.AsObject().Remove("evaluate");
        File.WriteAllText(recordFile, record.ToJsonString());
        File.Delete(Path.Combine(round1, "eval", "report.md"));

        var again = Loop(outDir);
        Assert.True(again.ExitCode == 0, again.Error + again.Output);
        Assert.DoesNotContain("$ ./rlhf ppo", again.Output);
        Assert.DoesNotContain("judged 3 items", again.Output); // the study was complete: nobody judges it again
        Assert.Equal(6, JudgmentsIn(Path.Combine(round1, "eval", "annotations.db")));
        Assert.Equal(evalComparisons, File.ReadAllText(Path.Combine(round1, "eval", "comparisons.jsonl")));
        Assert.True(File.Exists(Path.Combine(round1, "eval", "report.md")));
        Assert.Contains("evaluate", JsonNode.Parse(File.ReadAllText(recordFile))!["stage_seconds"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void Dpo_rounds_train_on_the_rounds_own_judgments_of_two_samples_of_the_current_policy()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "loop");
        var args = LoopFixture.Args(outDir, "--method", "dpo", "--pair-with", "self", "--collect-temperature", "1.5", "--judge-reward-model", LoopFixture.RewardModel);
        args[Array.IndexOf(args, "--train-args") + 1] = "--max-steps 1 --batch-size 2 --max-length 64";
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        string round1 = Path.Combine(outDir, "round-1");
        Assert.Contains($"--n 4 --max-new-tokens 6 --temperature 1.5 --out {Path.Combine(round1, "comparisons.jsonl")} --seed-b ", result.Output);
        Assert.Contains($"$ ./rlhf dpo --model {LoopFixture.Policy} --data {Path.Combine(round1, "preferences.jsonl")} --out {Path.Combine(round1, "policy-1")}", result.Output);
        // The evaluation samples at --temperature, the same streams for both sides.
        Assert.Contains($"--n 3 --max-new-tokens 6 --temperature 0.7 --out {Path.Combine(round1, "eval", "comparisons.jsonl")} --seed ", result.Output);
        var stored = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "loop.json")))!;
        Assert.Equal(("dpo", "self", 1.5), ((string)stored["method"]!, (string)stored["pair_with"]!, (double)stored["collect_temperature"]!));
    }

    [Fact]
    public void A_rerun_with_other_settings_is_refused_in_one_line_and_changes_nothing()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "loop");
        Assert.Equal(0, Loop(outDir).ExitCode);
        string settings = File.ReadAllText(Path.Combine(outDir, "loop.json"));
        var args = LoopFixture.Args(outDir, "--judge-reward-model", LoopFixture.RewardModel);
        args[Array.IndexOf(args, "--comparisons") + 1] = "5";
        var result = CliRunner.Run(args);
        CliRunner.AssertOneLineError(result, "loop.json", "other settings", "comparisons 4 (now 5)");
        Assert.Equal(settings, File.ReadAllText(Path.Combine(outDir, "loop.json")));
    }
}
