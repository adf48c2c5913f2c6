using RlhfSharp.Distributed;
using RlhfSharp.Tests.Cli;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// `mpirun -np 2 rlhf sft` with the gradient all-reduce overlapping backward (gradient ranges of 2 KiB, so the tiny model
/// has many) and without it (RLHF_ALLREDUCE_OVERLAP=off): the same weights, bit for bit, through shared memory and through
/// MPI_Allreduce called from the communication thread.
/// </summary>
[Trait("Category", "Slow")] // mpirun subprocesses
public class OverlappedAllReduceTests(ITestOutputHelper output)
{
    [MpiFact]
    public void Sft_with_the_all_reduce_overlapping_backward_gives_the_weights_of_the_all_reduce_after_it()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        // Two micro-batches per rank: only the second backward of a step overlaps, the first accumulates.
        string[] Sft(string outDir) => ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, "--max-steps", "3",
            "--batch-size", "2", "--gradient-accumulation", "2", "--max-length", "40", "--learning-rate", "1e-3", "--held-out-fraction", "0",
            "--save-every", "3"];
        string Folder(string name) => Path.Combine(TestPaths.NewTempDirectory(), name);
        string after = Folder("after"), overlapped = Folder("overlapped"), overlappedMpi = Folder("overlapped-mpi");
        string smallRanges = $"{World.BucketVariable}=0.002";
        foreach (var (outDir, variables) in new[]
        {
            (after, new[] { $"{World.OverlapVariable}=off", smallRanges }),
            (overlapped, [smallRanges]),
            (overlappedMpi, [smallRanges, $"{World.AllReduceVariable}=mpi"]),
        })
        {
            var run = MpiRun.CliWith(2, variables, Sft(outDir));
            Assert.True(run.ExitCode == 0, run.Error + run.Output);
        }

        var off = DistributedReport.Load(after);
        Assert.Equal((0, 0), (off.OverlapRanges, off.OverlapRangesStartedDuringBackward));
        foreach (string outDir in new[] { overlapped, overlappedMpi })
        {
            var report = DistributedReport.Load(outDir);
            output.WriteLine($"{Path.GetFileName(outDir)}: {report.OverlapRangesStartedDuringBackward} of {report.OverlapRanges} ranges started during backward");
            Assert.Equal(0, MpiRun.MaxWeightDifference(after, outDir));
            Assert.Equal(0, report.MaxWeightDifferenceAcrossRanks);
            // The tiny GPT-2's 2 blocks and final norm fill several 2 KiB ranges (8), final before the embeddings' are.
            Assert.True(report.OverlapRanges >= 5, $"{report.OverlapRanges} ranges");
            Assert.InRange(report.OverlapRangesStartedDuringBackward, 3, report.OverlapRanges - 1);
        }
    }

    /// <summary>PPO (policy + value head, two mini-batches accumulated per optimizer step): the same, overlapped or not.</summary>
    [MpiFact]
    public void Ppo_with_the_all_reduce_overlapping_backward_gives_the_weights_of_the_all_reduce_after_it()
    {
        string policy = TrainingCommandTestsModels.TinyModel, prompts = TrainingCommandTestsModels.HhSample(16);
        string rm = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        Assert.Equal(0, CliRunner.Run("reward", "--model", policy, "--data", prompts, "--out", rm, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);
        string after = Path.Combine(TestPaths.NewTempDirectory(), "after"), overlapped = Path.Combine(TestPaths.NewTempDirectory(), "overlapped");
        foreach (var (outDir, variables) in new[] { (after, new[] { $"{World.OverlapVariable}=off" }), (overlapped, [$"{World.BucketVariable}=0.002"]) })
        {
            var run = MpiRun.CliWith(2, variables, "ppo", "--policy", policy, "--reward-model", rm, "--prompts", prompts, "--out", outDir,
                "--max-steps", "2", "--batch-size", "4", "--max-new-tokens", "6", "--max-length", "48", "--eval-every", "2", "--eval-prompt-count", "2",
                "--ppo-epochs", "1", "--mini-batch-size", "2", "--gradient-accumulation", "2");
            Assert.True(run.ExitCode == 0, run.Error + run.Output);
        }
        var report = DistributedReport.Load(overlapped);
        output.WriteLine($"ppo: {report.OverlapRangesStartedDuringBackward} of {report.OverlapRanges} ranges started during backward");
        Assert.Equal(0, MpiRun.MaxWeightDifference(after, overlapped));
        Assert.InRange(report.OverlapRangesStartedDuringBackward, 3, report.OverlapRanges - 1);
    }
}
