using RlhfSharp.Cli;

namespace RlhfSharp.Tests.Cli;

public class UnknownCommandTests
{
    [Theory]
    [InlineData("error: unknown command 'rlo' (did you mean 'rloo'?)", "rlo", "--help")]
    [InlineData("error: unknown command 'sftt' (did you mean 'sft'?)", "sftt", "--help")]
    [InlineData("error: unknown command 'eval rewardd' (did you mean 'eval reward'?)", "eval", "rewardd", "--help")]
    [InlineData("error: unknown command 'grpoo' (did you mean 'grpo'?)", "grpoo", "--model", "m")]
    [InlineData("error: unknown command 'eval rewardd' (did you mean 'eval reward'?)", "--threads", "1", "eval", "rewardd")]
    [InlineData("error: unknown command 'eval pairwise judgee' (did you mean 'eval pairwise judge'?)", "eval", "pairwise", "judgee", "-h")]
    [InlineData("error: unknown command 'frobnicate' (commands: demo, generate, sft, reward, dpo, ppo, grpo, rloo, best-of-n, eval, bench, annotate, loop, toxicity, download, chat-template, merge, plan)", "frobnicate", "-h")]
    public void An_unknown_command_is_a_one_line_error_whatever_follows_it(string expected, params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(expected, result.Error.TrimEnd());
        Assert.Equal("", result.Output);
    }

    [Fact]
    public void Help_for_a_real_command_still_prints_its_help()
    {
        var result = CliRunner.Run("eval", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Evaluate trained models.", result.Output);
        Assert.Equal("", result.Error);
    }
}

public class NearestCommandTests
{
    [Theory]
    [InlineData("toxic", "toxicity")] // a prefix, 3 edits away
    [InlineData("rewrd", "reward")]
    [InlineData("benhc", "bench")] // a transposition is 2 edits
    [InlineData("frobnicate", null)]
    public void The_nearest_command_is_a_prefix_or_within_two_edits(string word, string? expected) =>
        Assert.Equal(expected, UnknownCommand.Nearest(word, ["demo", "generate", "sft", "reward", "ppo", "eval", "bench", "annotate", "toxicity"]));
}
