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
    public void A_tokenizer_with_more_ids_than_the_model_is_refused_in_one_line()
    {
        string small = TinyModels.SavedWithOversizedTokenizer("gpt2");
        var result = CliRunner.Run("generate", "--model", small, "--prompt", "Hello there", "--max-new-tokens", "2", "--greedy");
        CliRunner.AssertOneLineError(result, $"--model {small}: its tokenizer has 50257 token ids", "the model's vocab_size is 97");
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

    static string[] IdLines(CliResult result) =>
        result.Output.Split('\n').Where(l => l.StartsWith("ids:", StringComparison.Ordinal)).ToArray();

    static string PromptFile(params string[] lines)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "prompts.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    static CliResult Sample(params string[] extra) =>
        CliRunner.Run(["generate", "--model", TrainingCommandTestsModels.TinyModel, "--max-new-tokens", "6", "--seed", "11", .. extra]);

    [Fact]
    public void Every_prompt_gets_its_own_draw_across_batches()
    {
        string prompts = PromptFile([.. Enumerable.Repeat("{\"prompt\": \"The weather today\"}", 4)]);
        var result = Sample("--prompts", prompts, "--batch-size", "2");
        Assert.True(result.ExitCode == 0, result.Error);
        var ids = IdLines(result);
        Assert.Equal(4, ids.Length);
        Assert.Equal(4, ids.Distinct().Count());
    }

    [Fact]
    public void Repeated_prompts_one_per_batch_give_different_samples()
    {
        var result = Sample("--prompt", "Hello", "--prompt", "Hello", "--prompt", "Hello", "--batch-size", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(3, IdLines(result).Distinct().Count());
    }

    [Fact]
    public void Samples_do_not_depend_on_the_batch_size_and_repeat_with_the_seed()
    {
        string prompts = PromptFile("{\"prompt\": \"The weather today\"}", "{\"prompt\": \"My neighbour said that\"}", "{\"prompt\": \"The weather today\"}");
        var one = IdLines(Sample("--prompts", prompts, "--batch-size", "1"));
        var three = IdLines(Sample("--prompts", prompts, "--batch-size", "3"));
        Assert.Equal(3, one.Length);
        Assert.Equal(one, three);
        Assert.Equal(one, IdLines(Sample("--prompts", prompts, "--batch-size", "1")));
        Assert.NotEqual(one, IdLines(Sample("--prompts", prompts, "--batch-size", "1", "--seed", "12")));
    }

    [Fact]
    public void Output_rows_hold_the_prompt_text()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out.jsonl");
        var result = Sample("--prompt", "Hello there", "--prompt", "Good\\nmorning", "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);
        var rows = File.ReadAllLines(output).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
        Assert.Equal(["Hello there", "Good\nmorning"], rows.Select(r => (string?)r["prompt"]));
    }

    /// <summary>A console that, when the second result is printed, looks at what the output file already holds.</summary>
    sealed class PeekingWriter(string outputPath) : StringWriter
    {
        public int? RowsOnDiskAtSecondResult;

        public override void Write(string? value)
        {
            base.Write(value);
            if (RowsOnDiskAtSecondResult is null && ToString().Contains("[1]"))
                RowsOnDiskAtSecondResult = File.Exists(outputPath) ? File.ReadAllLines(outputPath).Length : 0;
        }

        public override void Write(char value)
        {
            base.Write(value);
            if (value == ']') Write("");
        }
    }

    [Fact]
    public void Output_is_written_as_each_batch_finishes()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out.jsonl");
        var console = new PeekingWriter(output);
        int code = RlhfSharp.Cli.CliApp.Run(["generate", "--model", TrainingCommandTestsModels.TinyModel, "--max-new-tokens", "3",
            "--prompt", "one", "--prompt", "two", "--prompt", "three", "--batch-size", "1", "--output", output], console, new StringWriter());
        Assert.Equal(0, code);
        Assert.Equal(1, console.RowsOnDiskAtSecondResult);
        Assert.Equal(3, File.ReadAllLines(output).Length);
    }

    [Fact]
    public void Over_long_prompts_are_cut_from_the_left_and_counted()
    {
        var tokenizer = RlhfSharp.Tokenization.TokenizerLoader.FromDirectory(TrainingCommandTestsModels.TinyModel)!;
        string longPrompt = string.Concat(Enumerable.Range(0, 100).Select(i => $"word{i} ")) + "end";
        var full = tokenizer.Encode(longPrompt);
        Assert.True(full.Count > 128, $"{full.Count} tokens");
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out.jsonl");
        var result = Sample("--prompt", longPrompt, "--prompt", "short", "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("1 of 2 prompts", result.Output);
        var promptIds = File.ReadAllLines(output).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["prompt_ids"]!.AsArray().Select(n => (int)n!).ToList()).ToList();
        Assert.Equal(full.Skip(full.Count - (128 - 6)), promptIds[0]); // the model's 128 positions minus 6 new tokens, the end kept
        Assert.Equal(tokenizer.Encode("short"), promptIds[1]);
    }

    [Fact]
    public void Prompts_files_are_read_as_eval_toxicity_reads_them()
    {
        string rtp = PromptFile([.. File.ReadLines(TestPaths.Shared("real-toxicity-prompts", "nontoxic.jsonl")).Take(2)]);
        var expected = RlhfSharp.Evaluation.Toxicity.ToxicityPromptReader.Read(rtp).Select(p => p.Text).ToList();
        string text = Path.Combine(TestPaths.NewTempDirectory(), "prompts.txt");
        File.WriteAllLines(text, ["The weather today", "", "My neighbour said"]);
        foreach (var (file, prompts) in new[] { (rtp, expected), (text, ["The weather today", "My neighbour said"]) })
        {
            string output = Path.Combine(TestPaths.NewTempDirectory(), "out.jsonl");
            var result = Sample("--prompts", file, "--output", output);
            Assert.True(result.ExitCode == 0, result.Error);
            Assert.Equal(prompts, File.ReadAllLines(output).Select(l => (string?)System.Text.Json.Nodes.JsonNode.Parse(l)!["prompt"]));
        }
    }

    [Fact]
    public void Unknown_options_are_rejected()
    {
        var result = CliRunner.Run("generate", "--model", Model, "--input-ids", "1,2", "--tempreature", "0.5");
        Assert.NotEqual(0, result.ExitCode);
    }
}
