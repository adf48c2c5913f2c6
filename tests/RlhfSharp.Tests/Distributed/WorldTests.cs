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
