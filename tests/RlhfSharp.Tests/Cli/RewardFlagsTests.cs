using System.CommandLine;
using RlhfSharp.Cli;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Rewards;

namespace RlhfSharp.Tests.Cli;

/// <summary>The reward flags (RewardFlags): declared once, the same in every command that scores completions.</summary>
public class RewardFlagsTests
{
    [Theory]
    [InlineData("ppo")]
    [InlineData("best-of-n")]
    public void Every_command_that_scores_has_the_reward_flags(string command)
    {
        var names = CliApp.BuildRoot().Subcommands.Single(c => c.Name == command).Options.Select(o => o.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "--reward", "--reward-weight", "--reward-plugin" }, names);
    }

    static RewardChoice Read(params string[] args)
    {
        var flags = new RewardFlags();
        var command = new Command("score");
        flags.AddTo(command);
        var parsed = command.Parse(args);
        Assert.Empty(parsed.Errors);
        return flags.Read(parsed);
    }

    [Fact]
    public void Weights_go_to_the_reward_specs_in_order_then_to_the_plugins()
    {
        string plugin = Rewards.TestRewardPlugin.Reference("PoliteReward");
        // The plugin flag comes first on the line, yet its weight is the last: --reward specs first, then plugins.
        var choice = Read("--reward-plugin", plugin, "--reward", "exact-match", "--reward-weight", "2", "--reward", "regex:^A", "--reward-weight", "0.5", "--reward-weight", "-1");
        Assert.Equal([("exact_match", 2.0), ("regex", 0.5), ("PoliteReward", -1.0)], choice.Rewards.Select(r => (r.Name, r.Weight)));
        // The weights may also follow one flag.
        Assert.Equal([2.0, 0.5, -1.0], Read("--reward-plugin", plugin, "--reward", "exact-match", "--reward", "regex:^A", "--reward-weight", "2", "0.5", "-1").Rewards.Select(r => r.Weight));
        Assert.All(Read("--reward", "exact-match", "--reward", "exact-match:mode=contains").Rewards, r => Assert.Equal(1.0, r.Weight));
    }

    [Fact]
    public void The_loaded_set_sums_the_weighted_functions_under_their_names()
    {
        using var loaded = Read("--reward", "exact-match", "--reward", "regex:please", "--reward-weight", "2", "0.5").Load(tokenizer: null, TextWriter.Null);
        Assert.Equal(["exact_match", "regex"], loaded.Set.Functions.Select(f => f.Name));
        var sample = new RewardSample("Q", "42, please", new Dictionary<string, string> { ["answer"] = "#### 42" });
        Assert.Equal([2 * 1 + 0.5 * 1], loaded.Set.Score([sample]));
    }
}
