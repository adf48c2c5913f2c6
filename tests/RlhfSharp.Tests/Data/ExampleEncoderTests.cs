using RlhfSharp.Data;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Data;

public sealed class ExampleEncoderTests
{
    const int Eos = 50256;
    static readonly ITextTokenizer Gpt2 = TokenizerLoader.Gpt2BuiltIn();

    static readonly string LongPrompt = "\n\nHuman: " + string.Join(" ", Enumerable.Range(0, 40).Select(i => $"word{i}")) + "\n\nAssistant:";

    static int[] Ids(string text) => [.. Gpt2.Encode(text)];

    [Fact]
    public void Sft_labels_ignore_exactly_the_prompt()
    {
        var example = new SftExample("\n\nHuman: What is the capital of France?\n\nAssistant:", " Paris.");
        int[] prompt = Ids(example.Prompt), completion = Ids(example.Completion);

        var encoded = new ExampleEncoder(Gpt2).EncodeSft(example, maxLength: 512);

        Assert.Equal([.. prompt, .. completion, Eos], encoded.InputIds);
        Assert.Equal(encoded.InputIds.Length, encoded.Labels.Length);
        Assert.Equal(prompt.Length, encoded.PromptLength);
        for (int i = 0; i < encoded.Labels.Length; i++)
            Assert.Equal(i < prompt.Length ? ExampleEncoder.IgnoreLabel : encoded.InputIds[i], encoded.Labels[i]);
        Assert.Equal(Truncation.None, encoded.Truncation);
        Assert.False(encoded.PromptTruncated);
    }

    [Fact]
    public void Long_prompt_loses_tokens_on_the_left()
    {
        var encoder = new ExampleEncoder(Gpt2);
        int[] prompt = Ids(LongPrompt), completion = Ids(" Sure thing.");
        int maxLength = completion.Length + 1 + 5;

        var encoded = encoder.EncodeSft(new SftExample(LongPrompt, " Sure thing."), maxLength);

        Assert.Equal([.. prompt[^5..], .. completion, Eos], encoded.InputIds);
        Assert.Equal([.. Enumerable.Repeat(ExampleEncoder.IgnoreLabel, 5), .. completion, Eos], encoded.Labels);
        Assert.Equal(5, encoded.PromptLength);
        Assert.Equal(Truncation.Prompt, encoded.Truncation);
        Assert.Equal((1, 1, 0), (encoder.EncodedCount, encoder.PromptTruncatedCount, encoder.ResponseTruncatedCount));
    }

    [Fact]
    public void Response_that_alone_does_not_fit_is_cut_on_the_right()
    {
        var encoder = new ExampleEncoder(Gpt2);
        int[] prompt = Ids(LongPrompt), response = Ids(" one two three four five six seven eight");

        var encoded = encoder.EncodeSft(new SftExample(LongPrompt, " one two three four five six seven eight"), maxLength: 4);

        Assert.Equal([prompt[^1], .. response[..3]], encoded.InputIds);
        Assert.Equal([ExampleEncoder.IgnoreLabel, .. response[..3]], encoded.Labels);
        Assert.Equal(Truncation.Response, encoded.Truncation);
        Assert.Equal((1, 0, 1), (encoder.EncodedCount, encoder.PromptTruncatedCount, encoder.ResponseTruncatedCount));
    }

    [Fact]
    public void Preference_sides_share_the_prompt_and_end_with_Eos()
    {
        var encoder = new ExampleEncoder(Gpt2);
        var pair = new PreferencePair("\n\nHuman: Hi\n\nAssistant:", " Hello! How can I help?", " Go away.");
        int[] prompt = Ids(pair.Prompt);

        var encoded = encoder.EncodePreference(pair, maxLength: 64);

        Assert.Equal([.. prompt, .. Ids(pair.Chosen), Eos], encoded.Chosen.InputIds);
        Assert.Equal([.. prompt, .. Ids(pair.Rejected), Eos], encoded.Rejected.InputIds);
        Assert.Equal((prompt.Length, prompt.Length), (encoded.Chosen.PromptLength, encoded.Rejected.PromptLength));
        Assert.False(encoded.PromptTruncated);
        Assert.Equal((1, 0, 0), (encoder.EncodedCount, encoder.PromptTruncatedCount, encoder.ResponseTruncatedCount));
    }

    [Fact]
    public void Preference_sides_are_truncated_each_to_fit()
    {
        var encoder = new ExampleEncoder(Gpt2);
        var pair = new PreferencePair(LongPrompt, " A much longer answer than the other one, with many words in it.", " Short.");
        int[] prompt = Ids(LongPrompt), chosen = Ids(pair.Chosen), rejected = Ids(pair.Rejected);
        int maxLength = chosen.Length + 1 + 3;

        var encoded = encoder.EncodePreference(pair, maxLength);

        Assert.Equal([.. prompt[^3..], .. chosen, Eos], encoded.Chosen.InputIds);
        Assert.Equal([.. prompt[^(maxLength - rejected.Length - 1)..], .. rejected, Eos], encoded.Rejected.InputIds);
        Assert.Equal(Truncation.Prompt, encoded.Chosen.Truncation);
        Assert.True(encoded.PromptTruncated);
        Assert.Equal((1, 1, 0), (encoder.EncodedCount, encoder.PromptTruncatedCount, encoder.ResponseTruncatedCount));
    }

    [Fact]
    public void No_Eos_without_one()
    {
        var example = new SftExample("Q:", " A");
        var encoded = new ExampleEncoder(new WithoutEos(Gpt2)).EncodeSft(example, maxLength: 16);
        Assert.Equal([.. Ids("Q:"), .. Ids(" A")], encoded.InputIds);
    }

    // A rendered chat: two trained assistant turns with an untrained user turn between them; no EOS is appended.
    static readonly SftExample TwoTurns = SftExample.FromSegments([
        new("User: one two three four\n", false), new("Bot: five six", true), new("\nUser: seven eight\n", false), new("Bot: nine ten", true)]);

    static int[] Masked(string text) => [.. Enumerable.Repeat(ExampleEncoder.IgnoreLabel, Ids(text).Length)];

    [Fact]
    public void Several_trained_segments_keep_their_mask_whole_and_no_eos_is_added()
    {
        var encoded = new ExampleEncoder(Gpt2).EncodeSft(TwoTurns, maxLength: 512);

        Assert.Equal([.. Ids("User: one two three four\n"), .. Ids("Bot: five six"), .. Ids("\nUser: seven eight\n"), .. Ids("Bot: nine ten")], encoded.InputIds);
        Assert.Equal([.. Masked("User: one two three four\n"), .. Ids("Bot: five six"), .. Masked("\nUser: seven eight\n"), .. Ids("Bot: nine ten")], encoded.Labels);
        Assert.Equal((Ids("User: one two three four\n").Length, Truncation.None), (encoded.PromptLength, encoded.Truncation));
    }

    [Fact]
    public void Several_trained_segments_lose_prompt_tokens_on_the_left_with_the_mask_moved_along()
    {
        var encoder = new ExampleEncoder(Gpt2);
        int[] before = Ids("User: one two three four\n");
        int tail = Ids("Bot: five six").Length + Ids("\nUser: seven eight\n").Length + Ids("Bot: nine ten").Length;

        var encoded = encoder.EncodeSft(TwoTurns, maxLength: tail + 2);

        Assert.Equal([.. before[^2..], .. Ids("Bot: five six"), .. Ids("\nUser: seven eight\n"), .. Ids("Bot: nine ten")], encoded.InputIds);
        Assert.Equal([ExampleEncoder.IgnoreLabel, ExampleEncoder.IgnoreLabel, .. Ids("Bot: five six"), .. Masked("\nUser: seven eight\n"), .. Ids("Bot: nine ten")], encoded.Labels);
        Assert.Equal((2, Truncation.Prompt), (encoded.PromptLength, encoded.Truncation));
        Assert.Equal((1, 1, 0), (encoder.EncodedCount, encoder.PromptTruncatedCount, encoder.ResponseTruncatedCount));
    }

    [Fact]
    public void Several_trained_segments_that_do_not_fit_are_cut_on_the_right_after_one_prompt_token()
    {
        var encoder = new ExampleEncoder(Gpt2);
        int[] before = Ids("User: one two three four\n"), first = Ids("Bot: five six"), between = Ids("\nUser: seven eight\n"), second = Ids("Bot: nine ten");
        int maxLength = 1 + first.Length + between.Length + 2;

        var encoded = encoder.EncodeSft(TwoTurns, maxLength);

        Assert.Equal([before[^1], .. first, .. between, .. second[..2]], encoded.InputIds);
        Assert.Equal([ExampleEncoder.IgnoreLabel, .. first, .. Masked("\nUser: seven eight\n"), .. second[..2]], encoded.Labels);
        Assert.Equal((1, Truncation.Response), (encoded.PromptLength, encoded.Truncation));
        Assert.Equal((1, 0, 1), (encoder.EncodedCount, encoder.PromptTruncatedCount, encoder.ResponseTruncatedCount));
    }

    [Fact]
    public void Max_length_below_two() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExampleEncoder(Gpt2).EncodeSft(new SftExample("Q:", " A"), maxLength: 1));

    sealed class WithoutEos(ITextTokenizer inner) : ITextTokenizer
    {
        public IReadOnlyList<int> Encode(string text) => inner.Encode(text);
        public string Decode(IEnumerable<int> ids) => inner.Decode(ids);
        public int VocabularySize => inner.VocabularySize;
        public SpecialTokens Special => inner.Special with { EosId = null, EosText = null };
    }
}
