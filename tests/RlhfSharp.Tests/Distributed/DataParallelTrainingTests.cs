using RlhfSharp.Distributed;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Training.Metrics;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// `mpirun -np 2 rlhf sft|reward|dpo|ppo` on a tiny model: two ranks with a micro-batch each take the same steps as one
/// process accumulating both micro-batches, and end with identical weights.
/// </summary>
[Trait("Category", "Slow")] // mpirun subprocesses
public class DataParallelTrainingTests(ITestOutputHelper output)
{
    internal const double Tolerance = 1e-6;

    internal static string[] Run(int accumulation) =>
        ["--max-steps", "3", "--batch-size", "2", "--gradient-accumulation", $"{accumulation}", "--max-length", "40", "--learning-rate", "1e-3",
         "--held-out-fraction", "0", "--log-every", "1", "--save-every", "2"];

    [MpiFact]
    public void Sft_on_two_ranks_matches_one_process_and_zero1_matches_both()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        string single = Path.Combine(TestPaths.NewTempDirectory(), "single"), pair = Path.Combine(TestPaths.NewTempDirectory(), "pair"),
            zero = Path.Combine(TestPaths.NewTempDirectory(), "zero");
        var one = MpiRun.Single(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", single, .. Run(accumulation: 2)]);
        Assert.True(one.ExitCode == 0, one.Error);
        var two = MpiRun.Cli(2, ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", pair, .. Run(accumulation: 1)]);
        Assert.True(two.ExitCode == 0, two.Error + two.Output);
        Assert.DoesNotContain('\u001b', two.Output); // no terminal codes: mpirun's output is a file or a pipe as often as not
        var sharded = MpiRun.Cli(2, ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", zero, .. Run(accumulation: 1), "--zero-stage", "1"]);
        Assert.True(sharded.ExitCode == 0, sharded.Error + sharded.Output);

        double versusSingle = MpiRun.MaxWeightDifference(single, pair), zeroVersusPlain = MpiRun.MaxWeightDifference(pair, zero);
        output.WriteLine($"sft: max |w_2ranks - w_1process| = {versusSingle:G3}, max |w_zero1 - w_plain| = {zeroVersusPlain:G3}");
        Assert.True(versusSingle <= Tolerance, $"2 ranks vs 1 process: {versusSingle}");
        Assert.True(zeroVersusPlain <= Tolerance, $"ZeRO-1 vs plain: {zeroVersusPlain}");
        Assert.True(MpiRun.MaxWeightDifference(single, zero) > -1); // both loadable

        var report = DistributedReport.Load(pair);
        Assert.Equal(2, report.WorldSize);
        Assert.Equal(0, report.MaxWeightDifferenceAcrossRanks);
        var zeroReport = DistributedReport.Load(zero);
        Assert.Equal(0, zeroReport.MaxWeightDifferenceAcrossRanks);
        Assert.True(zeroReport.OptimizerStateBytesPerRank * 2 <= zeroReport.OptimizerStateBytesUnsharded + 16, "each rank holds half the AdamW state");

        // One writer: rank 0's metrics, one row per step, with the loss averaged over both ranks (the single run's mean).
        var pairLoss = MetricsWriter.ReadJsonl(Path.Combine(pair, MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("loss")).ToList();
        var singleLoss = MetricsWriter.ReadJsonl(Path.Combine(single, MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("loss")).ToList();
        Assert.Equal([1L, 2, 3], pairLoss.Select(r => r.Step));
        for (int i = 0; i < 3; i++) Assert.Equal(singleLoss[i].Values["loss"], pairLoss[i].Values["loss"], 4);

        // tokens: the world's total per step, the sum of the two micro-batches one process takes one step each for.
        string steps = Path.Combine(TestPaths.NewTempDirectory(), "steps");
        string[] sixSteps = [.. Run(accumulation: 1)];
        sixSteps[1] = "6";
        var each = MpiRun.Single(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", steps, .. sixSteps]);
        Assert.True(each.ExitCode == 0, each.Error);
        var micro = MetricsWriter.ReadJsonl(Path.Combine(steps, MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("loss")).ToList();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(micro[2 * i].Values["tokens"] + micro[2 * i + 1].Values["tokens"], pairLoss[i].Values["tokens"]);
            Assert.Equal(singleLoss[i].Values["tokens"], pairLoss[i].Values["tokens"]);
        }
    }

    /// <summary>
    /// Three ranks have the bits of one process accumulating their three micro-batches only when the mean's 1/3 is taken
    /// where that process takes it (in each micro-batch's loss) and the sums add the ranks in order: through shared
    /// memory, and through MPI's all-to-all and all-gather (RLHF_ALLREDUCE=ordered, the path between hosts). Dividing
    /// the summed gradients by 3 instead left 8e-5 between the weights after 3 steps.
    /// </summary>
    [MpiFact]
    public void Sft_on_three_ranks_matches_one_process_through_shared_memory_and_through_ordered_mpi_sums()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        string[] Sft(string outDir, int accumulation) =>
            ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, .. Run(accumulation)];
        string single = Path.Combine(TestPaths.NewTempDirectory(), "single"), shared = Path.Combine(TestPaths.NewTempDirectory(), "shared"),
            ordered = Path.Combine(TestPaths.NewTempDirectory(), "ordered");
        var one = MpiRun.Single(Sft(single, accumulation: 3));
        Assert.True(one.ExitCode == 0, one.Error);
        foreach (var (outDir, variables) in new[] { (shared, Array.Empty<string>()), (ordered, [$"{World.AllReduceVariable}=ordered"]) })
        {
            var three = MpiRun.CliWith(3, variables, Sft(outDir, accumulation: 1));
            Assert.True(three.ExitCode == 0, three.Error + three.Output);
        }
        Assert.Equal("shared memory", DistributedReport.Load(shared).AllReduceTransport);
        Assert.Equal("MPI_Alltoallv + MPI_Allgatherv", DistributedReport.Load(ordered).AllReduceTransport);

        double viaShared = MpiRun.MaxWeightDifference(single, shared), viaOrdered = MpiRun.MaxWeightDifference(single, ordered);
        output.WriteLine($"sft on 3 ranks: max |w - w_1process| = {viaShared:G3} (shared memory), {viaOrdered:G3} (ordered MPI sums)");
        Assert.Equal(0, viaShared);
        Assert.Equal(0, viaOrdered);
    }

    [MpiFact]
    public void Reward_model_on_two_ranks_matches_one_process()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        string single = Path.Combine(TestPaths.NewTempDirectory(), "single"), pair = Path.Combine(TestPaths.NewTempDirectory(), "pair");
        var one = MpiRun.Single(["reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", single, .. Run(accumulation: 2)]);
        Assert.True(one.ExitCode == 0, one.Error);
        var two = MpiRun.Cli(2, ["reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", pair, .. Run(accumulation: 1)]);
        Assert.True(two.ExitCode == 0, two.Error + two.Output);

        double difference = MpiRun.MaxWeightDifference(single, pair);
        output.WriteLine($"reward: max |w_2ranks - w_1process| = {difference:G3}");
        Assert.True(difference <= Tolerance, $"2 ranks vs 1 process: {difference}");
        Assert.Equal(0, DistributedReport.Load(pair).MaxWeightDifferenceAcrossRanks);
    }

    [MpiFact]
    public void Lora_sft_and_reward_on_two_ranks_match_one_process_and_zero1_shards_only_the_adapter_state()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        string[] lora = ["--lora-r", "4", "--lora-dropout", "0.1"];
        string Folder(string name) => Path.Combine(TestPaths.NewTempDirectory(), name);
        string single = Folder("single"), pair = Folder("pair"), zero = Folder("zero"), rmSingle = Folder("rm-single"), rmPair = Folder("rm-pair");
        CliResult Succeeds(CliResult result)
        {
            Assert.True(result.ExitCode == 0, result.Error + result.Output);
            return result;
        }
        Succeeds(MpiRun.Single(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", single, .. Run(accumulation: 2), .. lora]));
        Succeeds(MpiRun.Cli(2, ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", pair, .. Run(accumulation: 1), .. lora]));
        Succeeds(MpiRun.Cli(2, ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", zero, .. Run(accumulation: 1), .. lora, "--zero-stage", "1"]));
        Succeeds(MpiRun.Single(["reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", rmSingle, .. Run(accumulation: 2), .. lora]));
        Succeeds(MpiRun.Cli(2, ["reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", rmPair, .. Run(accumulation: 1), .. lora]));

        double versusSingle = MpiRun.MaxWeightDifference(single, pair), zeroVersusPlain = MpiRun.MaxWeightDifference(pair, zero),
            rewardVersusSingle = MpiRun.MaxWeightDifference(rmSingle, rmPair);
        output.WriteLine($"LoRA sft: max |w_2ranks - w_1process| = {versusSingle:G3}, ZeRO-1 vs plain {zeroVersusPlain:G3}; reward (adapters + score): {rewardVersusSingle:G3}");
        Assert.True(versusSingle <= Tolerance, $"2 ranks vs 1 process: {versusSingle}");
        Assert.True(zeroVersusPlain <= Tolerance, $"ZeRO-1 vs plain: {zeroVersusPlain}");
        Assert.True(rewardVersusSingle <= Tolerance, $"reward, 2 ranks vs 1 process: {rewardVersusSingle}");
        Assert.Contains("base_model.model.score.weight", MpiRun.SavedTensors(rmPair).Keys);

        // The optimizer holds AdamW's two moments of the adapters alone (the frozen base has none); ZeRO-1 halves that.
        long adapterParameters = MpiRun.SavedTensors(pair).Values.Sum(load =>
        {
            using var tensor = load();
            return tensor.numel();
        });
        var plain = DistributedReport.Load(pair);
        var sharded = DistributedReport.Load(zero);
        Assert.Equal(0, plain.MaxWeightDifferenceAcrossRanks);
        Assert.Equal(0, sharded.MaxWeightDifferenceAcrossRanks);
        Assert.Equal(2 * sizeof(float) * adapterParameters, plain.OptimizerStateBytesUnsharded);
        Assert.Equal(2 * sizeof(float) * adapterParameters, sharded.OptimizerStateBytesUnsharded);
        Assert.True(sharded.OptimizerStateBytesPerRank * 2 <= sharded.OptimizerStateBytesUnsharded + 16, "each rank holds half the adapters' AdamW state");
    }

    /// <summary>
    /// DPO on 2 ranks: each rank computes half of the reference batches and one all-reduce gathers them, so the cached
    /// reference is the single process's bit for bit; the trained weights then match it too, with and without LoRA.
    /// </summary>
    [MpiFact]
    public void Dpo_on_two_ranks_matches_one_process_reference_and_weights_with_and_without_lora()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        foreach (string[] lora in (string[][])[[], ["--lora-r", "4"]])
        {
            string single = Path.Combine(TestPaths.NewTempDirectory(), "single"), pair = Path.Combine(TestPaths.NewTempDirectory(), "pair");
            var one = MpiRun.Single(["dpo", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", single, .. Run(accumulation: 2), .. lora]);
            Assert.True(one.ExitCode == 0, one.Error);
            var two = MpiRun.Cli(2, ["dpo", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", pair, .. Run(accumulation: 1), .. lora]);
            Assert.True(two.ExitCode == 0, two.Error + two.Output);
            Assert.Single(two.Output.Split('\n'), line => line.StartsWith("reference: ", StringComparison.Ordinal)); // rank 0 alone prints

            string reference = RlhfSharp.Training.Dpo.ReferencePass.FileName;
            Assert.Equal(File.ReadAllBytes(Path.Combine(single, reference)), File.ReadAllBytes(Path.Combine(pair, reference)));
            double difference = MpiRun.MaxWeightDifference(single, pair);
            output.WriteLine($"dpo{(lora.Length > 0 ? " lora" : "")}: max |w_2ranks - w_1process| = {difference:G3}");
            Assert.True(difference <= Tolerance, $"2 ranks vs 1 process: {difference}");
            Assert.Equal(0, DistributedReport.Load(pair).MaxWeightDifferenceAcrossRanks);
            var pairRows = MetricsWriter.ReadJsonl(Path.Combine(pair, MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("loss")).ToList();
            var singleRows = MetricsWriter.ReadJsonl(Path.Combine(single, MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("loss")).ToList();
            Assert.Equal(Math.Log(2), pairRows[0].Values["loss"], 1e-6);
            for (int i = 0; i < 3; i++) Assert.Equal(singleRows[i].Values["rewards/margins"], pairRows[i].Values["rewards/margins"], 5);
        }
    }

    [MpiFact]
    public void Ppo_on_two_ranks_keeps_the_ranks_identical_and_logs_world_metrics()
    {
        string policy = TrainingCommandTestsModels.TinyModel;
        string rm = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        string prompts = TrainingCommandTestsModels.HhSample(16);
        Assert.Equal(0, CliRunner.Run("reward", "--model", policy, "--data", prompts, "--out", rm, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);

        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = MpiRun.Cli(2, "ppo", "--policy", policy, "--reward-model", rm, "--prompts", prompts, "--out", outDir,
            "--max-steps", "2", "--batch-size", "3", "--max-new-tokens", "6", "--max-length", "48", "--eval-every", "2", "--eval-prompt-count", "2",
            "--ppo-epochs", "2", "--mini-batch-size", "2");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Single(result.Output.Split('\n'), line => line.StartsWith("done: 2 iterations")); // rank 0 alone prints
        Assert.DoesNotContain('\u001b', result.Output);

        Assert.Equal(0, DistributedReport.Load(outDir).MaxWeightDifferenceAcrossRanks);
        var rows = MetricsWriter.ReadJsonl(Path.Combine(outDir, MetricsWriter.JsonlFileName));
        Assert.Equal([1L, 2], rows.Select(r => r.Step));
        // World metrics: both ranks' rollouts (2 x 3) enter the reward statistics.
        Assert.All(rows, r => Assert.Equal(6, r.Values["rollouts"]));
        Assert.All(rows, r => Assert.True(r.Values["reward_min"] <= r.Values["reward_mean"] && r.Values["reward_mean"] <= r.Values["reward_max"]));
        Assert.True(File.Exists(Path.Combine(outDir, "model.safetensors")));
    }
}
