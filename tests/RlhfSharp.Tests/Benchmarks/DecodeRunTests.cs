using RlhfSharp.Cli.Benchmarks;
using RlhfSharp.Models;

namespace RlhfSharp.Tests.Benchmarks;

public class DecodeRunTests
{
    [Fact]
    public void Every_new_token_after_the_first_is_timed()
    {
        using var model = new CausalLanguageModel(BenchModels.Small() with { VocabSize = 256, HiddenSize = 32, NumLayers = 1, NumHeads = 2, NumKeyValueHeads = 2, HeadDim = 16, IntermediateSize = 64, MaxPositions = 64 });
        var timing = new DecodeRun(model).Run(batch: 3, promptTokens: 4, newTokens: 10);
        Assert.Equal(9, timing.StepSeconds.Count);
        Assert.All(timing.StepSeconds, s => Assert.True(s > 0));
        Assert.True(timing.Seconds >= timing.StepSeconds.Sum());
        Assert.True(timing.Growth > 0);
    }

    [Fact]
    public void The_first_and_last_step_costs_are_medians_of_eight_steps()
    {
        var timing = new DecodeTiming(1, [.. Enumerable.Repeat(1.0, 7), 100, .. Enumerable.Repeat(2.0, 20), 50]);
        Assert.Equal(1.0, timing.FirstStep);
        Assert.Equal(2.0, timing.LastStep);
        Assert.Equal(2.0, timing.Growth);
    }
}
