using System.Text.Json.Nodes;
using RlhfSharp.Tokenization;
using static RlhfSharp.Tests.Tokenization.TokenizerJsonFiles;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>GPT-2's real vocabulary and merges under the pipelines of today's tokenizer.json files, each loaded once.</summary>
public sealed class Gpt2Pipelines : IDisposable
{
    readonly Dictionary<string, ITextTokenizer> _loaded = [];
    readonly List<TempModelDirectory> _folders = [];

    public static readonly Dictionary<string, Func<JsonObject>> Forms = new()
    {
        ["Split(GPT-2 pattern, Isolated) + ByteLevel without regex"] = () => Gpt2With(null, SplitThenByteLevel(Gpt2Pattern)),
        ["Sequence[ByteLevel with regex]"] = () => Gpt2With(null, PreTokenizerSequence(ByteLevelComponent())),
        ["Split(GPT-2 pattern) + ByteLevel with regex"] = () => Gpt2With(null, PreTokenizerSequence(Split(Gpt2Pattern), ByteLevelComponent())),
        ["Qwen2.5: NFC, Split(Qwen pattern) + ByteLevel"] = () => Gpt2With(Normalizer("NFC"), SplitThenByteLevel(QwenPattern)),
        ["Llama 3: Split(Llama 3 pattern) + ByteLevel"] = () => Gpt2With(null, SplitThenByteLevel(Llama3Pattern)),
        ["SmolLM2: Digits(individual) + ByteLevel with regex"] = () => Gpt2With(null, PreTokenizerSequence(Digits(individual: true), ByteLevelComponent())),
        ["Digits(runs) + ByteLevel with regex"] = () => Gpt2With(null, PreTokenizerSequence(Digits(individual: false), ByteLevelComponent())),
        ["ByteLevel with add_prefix_space"] = () => Gpt2With(null, ByteLevelComponent(addPrefixSpace: true)),
        ["Split(GPT-2 pattern) + ByteLevel with add_prefix_space"] =
            () => Gpt2With(null, PreTokenizerSequence(Split(Gpt2Pattern), ByteLevelComponent(addPrefixSpace: true, useRegex: false))),
        ["NFD + ByteLevel"] = () => Gpt2With(Normalizer("NFD"), ByteLevelComponent()),
    };

    public ITextTokenizer Get(string form)
    {
        lock (_loaded)
        {
            if (_loaded.TryGetValue(form, out var tokenizer)) return tokenizer;
            var folder = new TempModelDirectory();
            _folders.Add(folder);
            folder.Write("tokenizer.json", Forms[form]());
            return _loaded[form] = TokenizerLoader.FromDirectory(folder.Path)!;
        }
    }

    public void Dispose()
    {
        foreach (var folder in _folders) folder.Dispose();
    }
}

public sealed class TokenizerPipelineTests(Gpt2Pipelines pipelines) : IClassFixture<Gpt2Pipelines>
{
    static readonly ITextTokenizer Reference = TokenizerLoader.Gpt2BuiltIn();

    /// <summary>The built-in GPT-2 encoding of each piece on its own (each is a single GPT-2 pre-token).</summary>
    static int[] EncodePieces(params string[] pieces) => pieces.SelectMany(Reference.Encode).ToArray();

    [Theory]
    [InlineData("Split(GPT-2 pattern, Isolated) + ByteLevel without regex")]
    [InlineData("Sequence[ByteLevel with regex]")]
    [InlineData("Split(GPT-2 pattern) + ByteLevel with regex")]
    public void Gpt2_split_as_a_Split_step_encodes_every_r50k_base_case_like_tiktoken_and_decodes_back(string form)
    {
        var tokenizer = pipelines.Get(form);
        var failures = TiktokenTestPlans.Gpt2Failures(tokenizer);
        foreach (string text in new[] { "I'll say it's fine, we're done; they've gone.", "  two  spaces,   three \t tab\n\nnew lines  \n  x\r\n", "trailing   " })
            if (!tokenizer.Encode(text).SequenceEqual(Reference.Encode(text))) failures.Add($"encode {text}");
        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("Qwen2.5: NFC, Split(Qwen pattern) + ByteLevel")]
    [InlineData("Llama 3: Split(Llama 3 pattern) + ByteLevel")]
    [InlineData("SmolLM2: Digits(individual) + ByteLevel with regex")]
    public void Every_pipeline_decodes_what_it_encodes(string form)
    {
        var tokenizer = pipelines.Get(form);
        var samples = TiktokenTestPlans.Cases("r50k_base").Select(c => c.Sample)
            .Concat(["😀Great!!\n", "你好世界 𠀀𠀁x 𝟏𝟐𝟑𝟒", "I'LL pay 12345.\r\n\r\n  done   "]);

        var failures = new List<string>();
        foreach (string sample in samples)
        {
            if (tokenizer.Decode(tokenizer.Encode(sample)) is var decoded && decoded != sample) failures.Add($"{sample}: got {decoded}");
        }
        Assert.Empty(failures);
    }

    [Fact]
    public void Qwen_pipeline_splits_every_digit_and_Llama3_groups_them_by_three()
    {
        const string text = "pay 12345, 67";

        Assert.Equal(EncodePieces("pay", " ", "1", "2", "3", "4", "5", ",", " ", "6", "7"), pipelines.Get("Qwen2.5: NFC, Split(Qwen pattern) + ByteLevel").Encode(text));
        Assert.Equal(EncodePieces("pay", " ", "123", "45", ",", " ", "67"), pipelines.Get("Llama 3: Split(Llama 3 pattern) + ByteLevel").Encode(text));
        Assert.Equal(EncodePieces("pay", " 12345", ",", " 67"), Reference.Encode(text));
    }

    [Fact]
    public void Nfc_normalizer_encodes_a_decomposed_letter_as_the_composed_one()
    {
        var qwen = pipelines.Get("Qwen2.5: NFC, Split(Qwen pattern) + ByteLevel");

        Assert.Equal(Reference.Encode("caf\u00e9"), qwen.Encode("cafe\u0301"));
        Assert.NotEqual(Reference.Encode("caf\u00e9"), Reference.Encode("cafe\u0301"));
        Assert.Equal("caf\u00e9", qwen.Decode(qwen.Encode("cafe\u0301")));
    }

    [Fact]
    public void Nfd_normalizer_decomposes()
    {
        var nfd = pipelines.Get("NFD + ByteLevel");

        Assert.Equal(Reference.Encode("cafe\u0301 \u1100\u1161"), nfd.Encode("caf\u00e9 \uac00"));   // é, and the Hangul syllable 가
        Assert.Equal(Reference.Encode("plain ASCII"), nfd.Encode("plain ASCII"));
    }

    [Fact]
    public void Digits_pre_tokenizer_splits_each_digit_or_keeps_runs()
    {
        const string text = "abc 12345x";

        Assert.Equal(EncodePieces("abc", " ", "1", "2", "3", "4", "5", "x"), pipelines.Get("SmolLM2: Digits(individual) + ByteLevel with regex").Encode(text));
        Assert.Equal(EncodePieces("abc", " ", "12345", "x"), pipelines.Get("Digits(runs) + ByteLevel with regex").Encode(text));
        Assert.Equal(EncodePieces("abc", " 12345", "x"), Reference.Encode(text));
    }

    [Fact]
    public void Add_prefix_space_puts_a_space_before_each_piece_that_lacks_one()
    {
        var prefixed = pipelines.Get("ByteLevel with add_prefix_space");
        Assert.Equal(Reference.Encode(" Hello world"), prefixed.Encode("Hello world"));
        Assert.Equal(" Hello world", prefixed.Decode(prefixed.Encode("Hello world")));   // the decoder keeps the added space, as tokenizers' does
        Assert.Equal(Reference.Encode(" Hello world"), pipelines.Get("ByteLevel with add_prefix_space").Encode(" Hello world"));
        // Applied per piece the Split step left: "Hi", ",", "there" each get one.
        Assert.Equal(EncodePieces(" Hi", " ,", " there"), pipelines.Get("Split(GPT-2 pattern) + ByteLevel with add_prefix_space").Encode("Hi,there"));
        // And per text segment between added tokens.
        Assert.Equal([50256, .. Reference.Encode(" Hello")], pipelines.Get("ByteLevel with add_prefix_space").Encode("<|endoftext|>Hello"));
    }
}
