using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Generation;

/// <summary>Generation with a real tokenizer: text in, text out, stop sequences.</summary>
public class TextGenerationTests
{
    /// <summary>A tiny random GPT-2 over the real 50,257-token vocabulary, saved with vocab.json + merges.txt.</summary>
    static string ModelWithTokenizer() => TrainingCommandTestsModels.TinyModel;

    [Fact]
    public void Stop_sequence_ends_a_row_and_is_cut_from_its_text()
    {
        string dir = ModelWithTokenizer();
        using var model = CausalLanguageModel.FromPretrained(dir);
        var generator = new TextGenerator(model, TokenizerLoader.FromDirectory(dir));
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 6, StopAtEos = false };
        var free = generator.Generate(["\n\nHuman: Hi there\n\nAssistant:"], options)[0];
        Assert.Equal(6, free.TokenIds.Count);
        // Stop at the text of the third token: the row ends there and its text ends just before it.
        string third = generator.Tokenizer!.Decode(free.TokenIds.Take(3));
        string firstTwo = generator.Tokenizer!.Decode(free.TokenIds.Take(2));
        string stop = third[firstTwo.Length..];
        Assert.False(string.IsNullOrEmpty(stop));
        var stopped = generator.Generate(["\n\nHuman: Hi there\n\nAssistant:"], options with { StopSequences = [stop] })[0];
        Assert.Equal(FinishReason.StopSequence, stopped.FinishReason);
        Assert.True(stopped.TokenIds.Count <= 3);
        Assert.DoesNotContain(stop, stopped.Text);
    }

    [Theory]
    [InlineData("xyz", 4)]          // no stop sequence: every token
    [InlineData(", Human", 2)]      // begins on a token boundary: the tokens before it
    [InlineData(" world", 1)]
    [InlineData("orld", 1)]         // begins inside " world": that token is dropped with its " w"
    [InlineData("Human", 3)]        // the earliest of several
    [InlineData("ello", 0)]         // begins in the first token
    public void Tokens_before_a_stop_sequence_end_on_a_token_boundary(string stop, int expected)
    {
        var tokenizer = TokenizerLoader.FromDirectory(ModelWithTokenizer())!;
        var tokens = tokenizer.Encode("Hello world, Human");
        Assert.Equal(["Hello", " world", ",", " Human"], tokens.Select(t => tokenizer.Decode([t])));
        Assert.Equal(expected, TextGenerator.TokensBeforeStopSequence(tokens, tokenizer, [stop, "zzz"]));
    }

    [Fact]
    public void A_character_split_over_byte_tokens_is_kept_whole_or_not_at_all()
    {
        var tokenizer = TokenizerLoader.FromDirectory(ModelWithTokenizer())!;
        var tokens = tokenizer.Encode("Hi 𝄞 there");
        var emoji = tokenizer.Encode(" 𝄞");
        Assert.True(emoji.Count > 1, "the clef takes several byte tokens");
        Assert.Equal(1 + emoji.Count, TextGenerator.TokensBeforeStopSequence(tokens, tokenizer, [" there"]));
        // Stopping at the clef keeps the text before it; one more token would end inside the clef's bytes.
        int kept = TextGenerator.TokensBeforeStopSequence(tokens, tokenizer, ["𝄞"]);
        Assert.Equal("Hi ", tokenizer.Decode(tokens.Take(kept)));
        Assert.Contains('\uFFFD', tokenizer.Decode(tokens.Take(kept + 1)));
    }

    [Fact]
    public void Cli_generates_from_a_text_prompt_and_prints_text_and_ids()
    {
        string dir = ModelWithTokenizer();
        var result = CliRunner.Run("generate", "--model", dir, "--prompt", "Hello", "--prompt", "A longer prompt here",
            "--max-new-tokens", "4", "--temperature", "0.8", "--top-k", "20", "--top-p", "0.9", "--seed", "3");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(2, result.Output.Split('\n').Count(l => l.StartsWith("ids: ")));
        Assert.Contains("[1]", result.Output);
        var again = CliRunner.Run("generate", "--model", dir, "--prompt", "Hello", "--prompt", "A longer prompt here",
            "--max-new-tokens", "4", "--temperature", "0.8", "--top-k", "20", "--top-p", "0.9", "--seed", "3");
        Assert.Equal(result.Output, again.Output);
    }

    [Fact]
    public void Prompts_file_errors_name_the_line()
    {
        string dir = ModelWithTokenizer();
        string prompts = Path.Combine(TestPaths.NewTempDirectory(), "prompts.jsonl");
        File.WriteAllText(prompts, "{\"prompt\": \"ok\"}\n{\"text\": \"no prompt field\"}\n");
        var result = CliRunner.Run("generate", "--model", dir, "--prompts", prompts);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("prompts.jsonl:2:", result.Error);
    }
}
