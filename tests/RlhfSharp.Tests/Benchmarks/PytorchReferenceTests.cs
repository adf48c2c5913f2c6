using RlhfSharp.Cli.Benchmarks;
using RlhfSharp.Models;

namespace RlhfSharp.Tests.Benchmarks;

public class PytorchReferenceTests
{
    static ModelConfig Tiny() => BenchModels.Small() with
    {
        VocabSize = 512,
        HiddenSize = 64,
        NumLayers = 2,
        NumHeads = 4,
        NumKeyValueHeads = 4,
        HeadDim = 16,
        IntermediateSize = 256,
        MaxPositions = 64,
    };

    [PytorchFact]
    public void Same_initial_weights_give_PyTorch_the_same_loss_before_and_after_an_AdamW_step()
    {
        var check = LossCheck.Run(Tiny(), PytorchFactAttribute.Python, threads: 1, batch: 2, sequence: 32);
        Assert.True(check.Passed, $"max difference {check.MaxDifference}: ours {check.OursBefore} -> {check.OursAfter}, PyTorch {check.PytorchBefore} -> {check.PytorchAfter}");
        Assert.True(check.OursAfter < check.OursBefore, "the step should lower the loss on its own batch");
    }

    [PytorchFact]
    public void The_reference_times_the_same_decode_loop_step_by_step()
    {
        using var reference = PytorchReference.Start(PytorchFactAttribute.Python, threads: 1);
        var timing = reference.Decode(Tiny(), batch: 2, promptTokens: 4, newTokens: 6);
        Assert.Equal(5, timing.StepSeconds.Count);
        Assert.True(timing.Seconds > timing.StepSeconds.Sum());
    }

    [Fact]
    public void A_python_that_is_not_there_is_not_found()
    {
        Assert.Null(PytorchReference.FindPython("/nonexistent/python3"));
    }
}
