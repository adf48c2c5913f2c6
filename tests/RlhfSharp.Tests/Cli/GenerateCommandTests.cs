using RlhfSharp.Tests.Models;

namespace RlhfSharp.Tests.Cli;

public class GenerateCommandTests
{
    static readonly string Model = TinyRandomGpt2Tests.ModelDir;

    [Fact]
    public void Greedy_generation_from_input_ids_prints_the_recorded_continuation()
    {
        var result = CliRunner.Run("generate", "--model", Model, "--input-ids", "0,0,195,731", "--max-new-tokens", "6", "--greedy");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("ids: 731 114 114 114 114 114", result.Output);
    }

    [Trait("Category", "Slow")] // ./rlhf may build the CLI first
    [Fact]
    public void The_rlhf_script_builds_and_runs_the_same_command()
    {
        var result = CliRunner.RunScript("generate", "--model", Model, "--input-ids", "0,0,195,731", "--max-new-tokens", "6", "--greedy");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("ids: 731 114 114 114 114 114", result.Output);
    }

    [Fact]
    public void Prompt_text_understands_newline_escapes_as_the_help_says()
    {
        string[] Ids(string prompt) => CliRunner.Run("generate", "--model", TrainingCommandTestsModels.TinyModel, "--prompt", prompt,
            "--max-new-tokens", "3", "--greedy").Output.Split('\n').Where(l => l.StartsWith("ids:", StringComparison.Ordinal)).ToArray();
        string[] escaped = Ids("\\n\\nHuman: Hi\\n\\nAssistant:");
        Assert.Single(escaped);
        Assert.Equal(Ids("\n\nHuman: Hi\n\nAssistant:"), escaped);
    }

    [Fact]
    public void Batched_input_ids_and_jsonl_output()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out.jsonl");
        var result = CliRunner.Run("generate", "--model", Model, "--input-ids", "0,0,0,52", "--input-ids", "0,0,195,731",
            "--max-new-tokens", "6", "--greedy", "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("ids: 204 204 204 204 204 204", result.Output);
        string[] lines = File.ReadAllLines(output);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"ids\":[731,114,114,114,114,114]", lines[1]);
    }

    [Theory]
    [InlineData("generate")]
    [InlineData("bench", "generate")]
    [InlineData()]
    public void Help_lists_options_with_defaults(params string[] command)
    {
        var result = CliRunner.Run([.. command, "--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--threads", result.Output);
        if (command.Length > 0) Assert.Contains("default:", result.Output);
    }

    [Fact]
    public void Text_prompts_without_a_tokenizer_are_a_one_line_error()
    {
        var result = CliRunner.Run("generate", "--model", Model, "--prompt", "Hello");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no tokenizer files", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--input-ids", "0,5000")]
    [InlineData("--input-ids", "0,x")]
    [InlineData("--temperature", "0")]
    public void Bad_arguments_are_one_line_errors(string option, string value)
    {
        string[] args = option == "--temperature"
            ? ["generate", "--model", Model, "--input-ids", "1,2", option, value]
            : ["generate", "--model", Model, option, value];
        var result = CliRunner.Run(args);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Fact]
    public void Unknown_options_are_rejected()
    {
        var result = CliRunner.Run("generate", "--model", Model, "--input-ids", "1,2", "--tempreature", "0.5");
        Assert.NotEqual(0, result.ExitCode);
    }
}
