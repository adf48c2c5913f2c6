namespace RlhfSharp.Tests.Cli;

/// <summary>pack_sequences is a knob of sft and reward: a flag and a YAML key, off unless given.</summary>
public class PackSequencesCommandTests
{
    [Theory]
    [InlineData("sft")]
    [InlineData("reward")]
    public void Pack_sequences_is_off_by_default_and_set_by_flag_or_yaml(string command)
    {
        Assert.Contains("pack_sequences: false\n", Printed(command));
        Assert.Contains("pack_sequences: true\n", Printed(command, "--pack-sequences"));
        string config = Path.Combine(TestPaths.NewTempDirectory(), "options.yaml");
        File.WriteAllText(config, "pack_sequences: true\n");
        Assert.Contains("pack_sequences: true\n", Printed(command, "--config", config));
    }

    static string Printed(string command, params string[] args)
    {
        var printed = CliRunner.Run([command, .. args, "--print-config"]);
        Assert.True(printed.ExitCode == 0, printed.Error);
        return printed.Output;
    }
}
