using System.CommandLine;
using RlhfSharp.Cli;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Generation;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Tests.Cli;

/// <summary>The sampling flags: declared once (SamplingFlags), the same names in every command that samples and in ppo.</summary>
public class SamplingFlagsTests
{
    static Command Find(params string[] path) =>
        path.Aggregate((Command)CliApp.BuildRoot(), (command, name) => command.Subcommands.Single(c => c.Name == name));

    static HashSet<string> Names(Command command) => command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();

    public static TheoryData<string, bool> SamplingCommands => new()
    {
        { "generate", true },
        { "best-of-n", true },
        { "eval pairwise prepare", true },
        { "eval toxicity", false }, // fixed-length sampled continuations: no greedy decoding, no stop sequences
    };

    [Theory]
    [MemberData(nameof(SamplingCommands))]
    public void Every_command_that_samples_has_the_shared_sampling_flags(string command, bool freeDecoding)
    {
        var names = Names(Find(command.Split(' ')));
        foreach (string flag in new[] { "--max-new-tokens", "--temperature", "--top-k", "--top-p", "--seed" })
            Assert.Contains(flag, names);
        foreach (string flag in new[] { "--greedy", "--stop-sequences", "--stop" })
            Assert.Equal(freeDecoding, names.Contains(flag));
    }

    [Fact]
    public void Stop_sequences_given_with_no_value_turn_the_default_stops_off_as_in_ppo()
    {
        var flags = new SamplingFlags(new SamplingOptions { StopSequences = ["\n\nHuman:"] }, seedHelp: "seed", freeDecoding: true);
        var command = new Command("prepare");
        foreach (var option in flags.All) command.Options.Add(option);
        Assert.Equal(["\n\nHuman:"], flags.Read(command.Parse([])).StopSequences);
        Assert.Empty(flags.Read(command.Parse(["--stop-sequences"])).StopSequences);
        Assert.Equal(["\n\nUser:"], flags.Read(command.Parse(["--stop", "\\n\\nUser:"])).StopSequences);
    }

    [Fact]
    public void Ppo_names_its_sampling_flags_as_the_commands_that_sample_do()
    {
        var ppoSampling = YamlConfig.KeyProperties(typeof(PpoOptions))
            .Where(k => k.Path[0].Name == nameof(PpoOptions.Sampling))
            .Select(k => "--" + k.Key.Replace('_', '-')).ToList();
        Assert.Equal(["--max-new-tokens", "--temperature", "--top-k", "--top-p", "--stop-sequences"], ppoSampling);
        var shared = Find("generate").Options.Select(o => o.Name).ToHashSet();
        var ppo = Find("ppo").Options.Select(o => o.Name).ToHashSet();
        foreach (string flag in ppoSampling)
        {
            Assert.Contains(flag, shared);
            Assert.Contains(flag, ppo);
        }
    }

    static SamplingOptions Read(SamplingFlags flags, params string[] args)
    {
        var command = new Command("sample");
        foreach (var option in flags.All) command.Options.Add(option);
        var parsed = command.Parse(args);
        Assert.Empty(parsed.Errors);
        return flags.Read(parsed);
    }

    [Fact]
    public void Flags_give_sampling_options_over_the_commands_defaults_and_stop_is_the_old_name_of_stop_sequences()
    {
        var flags = new SamplingFlags(new SamplingOptions { MaxNewTokens = 128, Temperature = 0.7, StopSequences = ["\n\nHuman:"] }, "seed");

        Assert.Equal(new SamplingOptions { MaxNewTokens = 128, Temperature = 0.7, StopSequences = Read(flags).StopSequences }, Read(flags));
        Assert.Equal(["\n\nHuman:"], Read(flags).StopSequences);
        Assert.Equal(["\n", "a\tb"], Read(flags, "--stop", "\\n", "--stop-sequences", "a\\tb").StopSequences);
        var given = Read(flags, "--max-new-tokens", "7", "--greedy", "--temperature", "0.5", "--top-k", "3", "--top-p", "0.9", "--seed", "9");
        Assert.Equal((7, true, 0.5, 3, 0.9, 9UL), (given.MaxNewTokens, given.Greedy, given.Temperature, given.TopK, given.TopP, given.Seed));
        Assert.Contains("--top-p is 1.5", Assert.ThrowsAny<RlhfException>(() => Read(flags, "--top-p", "1.5")).Message);

        var sampledOnly = new SamplingFlags(new SamplingOptions { MaxNewTokens = 20 }, "seed", freeDecoding: false);
        Assert.Null(sampledOnly.Greedy);
        Assert.Null(sampledOnly.StopSequences);
        Assert.Equal((20, false), (Read(sampledOnly).MaxNewTokens, Read(sampledOnly).Greedy));
    }
}
