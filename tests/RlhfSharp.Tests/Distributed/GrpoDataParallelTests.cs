using RlhfSharp.Distributed;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Training.Grpo;
using RlhfSharp.Training.Metrics;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// `mpirun -np 2 rlhf grpo|rloo`: a step's world batch is cut between the ranks, every prompt's group is sampled and
/// passed forward on its own, so two ranks with b prompts each take the steps one process takes with 2b.
/// </summary>
[Trait("Category", "Slow")] // mpirun subprocesses
public class GrpoDataParallelTests(ITestOutputHelper output)
{
    static string[] Run(string command, string prompts, string outDir, int batchSize, params string[] more) =>
        [command, "--policy", TrainingCommandTestsModels.TinyModel, "--prompts", prompts, "--out", outDir, "--max-steps", "3", "--batch-size", $"{batchSize}",
         "--num-generations", "3", "--max-new-tokens", "6", "--stop-sequences", "e", "--learning-rate", "1e-3", "--held-out-fraction", "0", "--save-every", "2",
         "--beta", "0.05", "--num-iterations", "2", .. GrpoCommandTests.Rewards, .. more];

    static void AssertSucceeded(CliResult result) => Assert.True(result.ExitCode == 0, result.Error + result.Output);

    static IReadOnlyList<IReadOnlyDictionary<string, double>> Metrics(string outDir) =>
        MetricsWriter.ReadJsonl(Path.Combine(outDir, MetricsWriter.JsonlFileName)).Select(r => r.Values).ToList();

    [MpiFact]
    public void Grpo_on_two_ranks_with_a_prompt_each_is_bit_identical_to_one_process_with_both()
    {
        string prompts = GrpoCommandTests.MathPrompts();
        string single = Path.Combine(TestPaths.NewTempDirectory(), "single"), pair = Path.Combine(TestPaths.NewTempDirectory(), "pair");
        // bnpo: the ranks' completions differ in length (a stop at "e"), so the tokens are counted over both ranks.
        AssertSucceeded(MpiRun.Single(Run("grpo", prompts, single, batchSize: 2)));
        var two = MpiRun.Cli(2, Run("grpo", prompts, pair, batchSize: 1));
        AssertSucceeded(two);
        Assert.Single(two.Output.Split('\n'), line => line.StartsWith("done: 3 steps")); // rank 0 alone prints
        Assert.DoesNotContain('\u001b', two.Output);

        Assert.Equal(0, MpiRun.MaxWeightDifference(single, pair));
        Assert.Equal(0, DistributedReport.Load(pair).MaxWeightDifferenceAcrossRanks);
        // World metrics: both ranks' completions enter them, as the single process's do.
        string[] keys = ["loss", "reward", "kl", "clip_ratio", "entropy", "completions/mean_length", "frac_reward_zero_std", "rewards/exact_match/mean"];
        var (one, both) = (Metrics(single), Metrics(pair));
        Assert.Equal(3, both.Count);
        for (int step = 0; step < 3; step++)
            foreach (string key in keys) Assert.Equal(one[step][key], both[step][key], 1e-6);
    }

    [MpiFact]
    public void Rloo_with_lora_on_two_ranks_matches_one_process()
    {
        string prompts = GrpoCommandTests.MathPrompts();
        string single = Path.Combine(TestPaths.NewTempDirectory(), "single"), pair = Path.Combine(TestPaths.NewTempDirectory(), "pair");
        string[] lora = ["--lora-r", "4", "--loss-type", "grpo"];
        AssertSucceeded(MpiRun.Single(Run("rloo", prompts, single, 4, lora)));
        AssertSucceeded(MpiRun.Cli(2, Run("rloo", prompts, pair, 2, lora)));

        // Two groups a rank: each rank adds its two groups' gradients before the all-reduce adds the ranks', one process
        // adds all four in turn, so float32 rounding may differ in the last place.
        double difference = MpiRun.MaxWeightDifference(single, pair);
        output.WriteLine($"rloo + LoRA: max |w_2ranks - w_1process| = {difference:G3}");
        Assert.True(difference <= 1e-6, $"2 ranks vs 1 process: {difference}");
        Assert.Equal(0, DistributedReport.Load(pair).MaxWeightDifferenceAcrossRanks);
        Assert.Equal(Metrics(single)[0]["reward"], Metrics(pair)[0]["reward"]); // the same start samples the same completions
    }
}
