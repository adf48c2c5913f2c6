using RlhfSharp.Distributed;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Distributed;

public class WorldTests
{
    [Fact]
    public void Outside_mpirun_a_process_is_rank_0_of_1_without_MPI()
    {
        using var world = World.FromEnvironment(_ => null);
        Assert.IsType<SingleProcess>(world);
        Assert.Equal((0, 1, true), (world.Rank, world.Size, world.IsRoot));
    }

    [Fact]
    public void Under_mpirun_without_libmpi_the_error_is_one_line_saying_what_to_install()
    {
        var variables = new Dictionary<string, string> { ["OMPI_COMM_WORLD_SIZE"] = "2", [World.LibraryVariable] = "/nonexistent/libmpi.so.40" };
        var error = Assert.ThrowsAny<RlhfException>(() => World.FromEnvironment(name => variables.GetValueOrDefault(name)));
        Assert.Single(error.Message.Split('\n'));
        Assert.Contains("MPI was requested", error.Message);
        Assert.Contains("apt-get install openmpi-bin", error.Message);
    }

    [Fact]
    public void An_unknown_all_reduce_transport_is_a_one_line_error_before_MPI_starts()
    {
        var variables = new Dictionary<string, string> { ["OMPI_COMM_WORLD_SIZE"] = "2", [World.AllReduceVariable] = "nccl" };
        var error = Assert.Throws<RlhfException>(() => World.FromEnvironment(name => variables.GetValueOrDefault(name)));
        Assert.Equal("RLHF_ALLREDUCE=nccl: expected shared, ordered or mpi", error.Message);
    }

    [Theory]
    [InlineData(World.OverlapVariable, "yes", "RLHF_ALLREDUCE_OVERLAP=yes: expected on or off")]
    [InlineData(PeerWatch.Variable, "false", "RLHF_PEER_WATCH=false: expected on or off")]
    [InlineData(World.BucketVariable, "0", "RLHF_ALLREDUCE_BUCKET_MB=0: expected a size in MiB above 0, such as 25 or 0.5")]
    [InlineData(World.BucketVariable, "25MB", "RLHF_ALLREDUCE_BUCKET_MB=25MB: expected a size in MiB above 0, such as 25 or 0.5")]
    public void A_bad_overlap_setting_is_a_one_line_error_before_MPI_starts(string name, string value, string message)
    {
        // The library cannot be opened: an error about it would mean the setting was read only after MPI started.
        var variables = new Dictionary<string, string> { ["OMPI_COMM_WORLD_SIZE"] = "2", [name] = value, [World.LibraryVariable] = "/nonexistent/libmpi.so.40" };
        var error = Assert.Throws<RlhfException>(() => World.FromEnvironment(n => variables.GetValueOrDefault(n)));
        Assert.Equal(message, error.Message);
    }

    [MpiFact]
    public void Sums_over_ranks_are_exact_with_uneven_slices_through_shared_memory_ordered_mpi_sums_and_mpi_allreduce()
    {
        // 1 MB + 1 float over 3 ranks: slices of 83,334, 83,334 and 83,333 floats. The bench sums rank-dependent whole
        // numbers (exact in float32) and checks every rank's result; a slice summed twice, skipped or read before
        // another rank wrote it comes out wrong. The ordered MPI sums go in rounds of 2^23 floats: 34 MB + 1 float is
        // one whole round and an uneven part of one.
        string[] bench = ["bench", "data-parallel", "--steps", "1", "--sequence", "8", "--batch-size", "1"];
        foreach (var (ranks, variables, transport, megabytes) in new[]
        {
            (3, Array.Empty<string>(), "shared memory", "1"), (3, [$"{World.AllReduceVariable}=ordered"], "MPI_Alltoallv + MPI_Allgatherv", "34"),
            (2, [$"{World.AllReduceVariable}=mpi"], "MPI_Allreduce", "1"),
        })
        {
            string outDir = TestPaths.NewTempDirectory();
            var run = MpiRun.CliWith(ranks, variables, [.. bench, "--allreduce-mb", megabytes, "--out", outDir]);
            Assert.True(run.ExitCode == 0, run.Error + run.Output);
            using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, $"bench-data-parallel-{ranks}.json")));
            Assert.Equal(transport, report.RootElement.GetProperty("allreduce_transport").GetString());
            Assert.True(report.RootElement.GetProperty("allreduce_exact").GetBoolean());
        }
    }

    [Trait("Category", "Slow")] // two training subprocesses
    [Fact]
    public void Zero1_in_one_process_gives_the_weights_of_plain_AdamW()
    {
        string data = TrainingCommandTestsModels.HhSample(12);
        string plain = Path.Combine(TestPaths.NewTempDirectory(), "plain"), zero = Path.Combine(TestPaths.NewTempDirectory(), "zero");
        string[] run = ["--batch-size", "2", "--max-length", "40", "--learning-rate", "1e-3", "--held-out-fraction", "0", "--save-every", "2"];
        Assert.Equal(0, MpiRun.Single(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", plain, .. run, "--max-steps", "3"]).ExitCode);
        var sharded = MpiRun.Single(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", zero, .. run, "--max-steps", "3", "--zero-stage", "1"]);
        Assert.True(sharded.ExitCode == 0, sharded.Error);
        Assert.True(MpiRun.MaxWeightDifference(plain, zero) <= 1e-6);

        // The sharded state resumes (and refuses the other stage with a one-line reason).
        var resumed = CliRunner.Run(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", zero, .. run, "--max-steps", "4", "--zero-stage", "1", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("done: 4 steps", resumed.Output);
        var refused = CliRunner.Run(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", zero, .. run, "--max-steps", "5", "--resume"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("saved with ZeRO-1", refused.Error);
    }
}
