using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>A BPE fitted to a corpus saves as tokenizer.json, loads back through the normal loader and round-trips text.</summary>
public sealed class BpeTrainerTests : IDisposable
{
    readonly TempModelDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    static readonly string[] Corpus =
    [
        "\n\nHuman: What is the capital of France?\n\nAssistant: The capital of France is Paris.",
        "\n\nHuman: What is the capital of Spain?\n\nAssistant: The capital of Spain is Madrid.",
        "\n\nHuman: How do I make pancakes?\n\nAssistant: Mix flour, eggs and milk, then fry the batter.",
    ];

    [Fact]
    public void Most_frequent_pair_is_merged_first_and_ties_go_to_the_smallest_pair()
    {
        // "ab" occurs 3 times, "cd" twice: the first merge is a+b, then c+d; "e f" occurs once and is never merged.
        var bpe = BpeTrainer.Fit(["ab ab ab cd cd e"], vocabularySize: 300);
        Assert.Equal("a b", bpe.Merges[0]);
        Assert.Contains("c d", bpe.Merges);
        // Spaces are "Ġ" in byte-level symbols: " ab" (twice) is merged from "Ġ" + "ab" after "ab" exists.
        Assert.Contains("Ġ ab", bpe.Merges);
        Assert.DoesNotContain(bpe.Merges, m => m.Contains('e'));
        Assert.Equal(bpe.Vocabulary.Count - 1, bpe.Vocabulary[BpeTrainer.EndOfText]);
    }

    [Fact]
    public void Fitted_tokenizer_loads_round_trips_and_stops_at_the_requested_size()
    {
        var bpe = BpeTrainer.Fit(Corpus, vocabularySize: 290);
        Assert.Equal(290, bpe.Vocabulary.Count);
        BpeTrainer.Save(bpe, _folder.Path, modelMaxLength: 128);

        var tokenizer = TokenizerLoader.FromDirectory(_folder.Path)!;
        Assert.Equal(290, tokenizer.VocabularySize);
        Assert.Equal(289, tokenizer.Special.EosId);
        foreach (string text in Corpus.Append("Unseen wörds, digits 123 and <|endoftext|>"))
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        Assert.Equal([289], tokenizer.Encode("<|endoftext|>"));
    }

    [Fact]
    public void Frequent_words_become_single_tokens_and_fits_are_deterministic()
    {
        var first = BpeTrainer.Fit(Corpus, vocabularySize: 1000);
        var second = BpeTrainer.Fit(Corpus.Reverse(), vocabularySize: 1000);
        Assert.Equal(first.Merges, second.Merges);
        BpeTrainer.Save(first, _folder.Path, modelMaxLength: 128);
        var tokenizer = TokenizerLoader.FromDirectory(_folder.Path)!;
        Assert.Single(tokenizer.Encode(" capital"));
        Assert.Single(tokenizer.Encode("Assistant"));
        Assert.Equal(3, tokenizer.Encode("\n\nAssistant").Count); // GPT-2's pre-tokenizer splits "\n\n" before a word into "\n", "\n"
        Assert.True(first.Vocabulary.Count < 1000, "fitting stops when no pair occurs twice");
    }

    [Fact]
    public void Too_small_a_vocabulary_is_an_error()
    {
        var error = Assert.ThrowsAny<RlhfException>(() => BpeTrainer.Fit(Corpus, vocabularySize: 200));
        Assert.Contains("256 byte symbols", error.Message);
    }
}
