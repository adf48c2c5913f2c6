using RlhfSharp.Generation.FusedDecode;

namespace RlhfSharp.Tests.Generation.FusedDecode;

public class DecodeThreadChoiceTests
{
    [Fact]
    public void Threads_run_while_their_fastest_trial_step_beats_the_lone_threads()
    {
        var choice = new DecodeThreadChoice();
        // Four untimed steps (threads, the first choice; 14 ms, as after a prefill, must not count), then trials: threaded
        // 3, 2, 4, 5 ms (fastest 2), alone 2.5, 3, 3, 3 ms (fastest 2.5): 2 <= 2.5, the threads win.
        var used = Run(choice, [14, 6, 6, 7, 3, 2, 4, 5, 2.5, 3, 3, 3]);
        Assert.Equal([true, true, true, true, true, true, true, true, false, false, false, false], used);
        Assert.True(choice.UseThreads);
    }

    [Fact]
    public void The_lone_thread_runs_until_the_next_period_when_it_was_faster()
    {
        var choice = new DecodeThreadChoice();
        // Threaded fastest 4 ms, alone fastest 3 ms: alone for steps 12 .. 63, and for the next period's untimed steps.
        Run(choice, [1, 1, 1, 1, 4, 5, 6, 4, 3, 3.5, 3, 4]);
        var rest = Run(choice, [.. Enumerable.Repeat(3.0, DecodeThreadChoice.Period - 3 * DecodeThreadChoice.Trials)]);
        Assert.All(rest, Assert.False);
        Assert.Equal(DecodeThreadChoice.Period, choice.Steps);
        // The next period: untimed steps alone (the standing choice), then threaded trials again.
        var next = Run(choice, [3, 3, 3, 3, 2, 2, 2, 2]);
        Assert.Equal([false, false, false, false, true, true, true, true], next);
    }

    static List<bool> Run(DecodeThreadChoice choice, double[] milliseconds)
    {
        var used = new List<bool>();
        foreach (double ms in milliseconds)
        {
            used.Add(choice.UseThreads);
            choice.Record(ms / 1e3);
        }
        return used;
    }
}
