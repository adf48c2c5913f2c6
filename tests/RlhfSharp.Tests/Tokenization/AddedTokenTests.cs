using System.Text.Json.Nodes;
using RlhfSharp.Tokenization;
using static RlhfSharp.Tests.Tokenization.TokenizerJsonFiles;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>added_tokens over GPT-2's vocabulary: matched literally before pre-tokenization, with tokenizers' flags.</summary>
public sealed class AddedTokenTests : IDisposable
{
    const int EndOfText = 50256;
    readonly TempModelDirectory _dir = new();
    static readonly ITextTokenizer Reference = TokenizerLoader.Gpt2BuiltIn();

    public void Dispose() => _dir.Dispose();

    ITextTokenizer Load(JsonNode? normalizer, params JsonObject[] added)
    {
        var json = Gpt2With(normalizer, SplitThenByteLevel(QwenPattern));
        json["added_tokens"] = new JsonArray([AddedToken(EndOfText, "<|endoftext|>"), .. added]);
        _dir.Write("tokenizer.json", json);
        return TokenizerLoader.FromDirectory(_dir.Path)!;
    }

    static int[] Gpt2(params string[] pieces) => pieces.SelectMany(Reference.Encode).ToArray();

    [Fact]
    public void Chat_markers_are_matched_literally_inside_words_and_decode_as_their_text()
    {
        var tokenizer = Load(Normalizer("NFC"), AddedToken(50257, "<|im_start|>"), AddedToken(50258, "<|im_end|>"), AddedToken(50259, "<|im"));
        const string text = "x<|im_start|>user\nHi<|im_end|><|im";

        var ids = tokenizer.Encode(text);

        Assert.Equal([.. Gpt2("x"), 50257, .. Gpt2("user", "\n", "Hi"), 50258, 50259], ids);   // the longest token wins
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Equal(50260, tokenizer.VocabularySize);
    }

    [Fact]
    public void Lstrip_and_rstrip_tokens_swallow_the_whitespace_beside_them()
    {
        var tokenizer = Load(null, AddedToken(50257, "<mask>", lstrip: true), AddedToken(50258, "<end>", rstrip: true), AddedToken(50259, "<plain>"));

        Assert.Equal([.. Gpt2("a"), 50257, .. Gpt2(" b")], tokenizer.Encode("a  <mask> b"));
        Assert.Equal([.. Gpt2("a"), 50258, .. Gpt2("b")], tokenizer.Encode("a<end>   b"));
        Assert.Equal([.. Gpt2("a", " "), 50259, .. Gpt2(" ", " b")], tokenizer.Encode("a <plain>  b"));
    }

    [Fact]
    public void Single_word_tokens_match_only_where_no_word_character_touches_them()
    {
        var tokenizer = Load(null, AddedToken(50257, "yes", special: false, singleWord: true));

        Assert.Equal([50257, .. Gpt2(",", " "), 50257], tokenizer.Encode("yes, yes"));
        Assert.Equal(Gpt2("eyes"), tokenizer.Encode("eyes"));
        Assert.Equal(Gpt2("yes", "2"), tokenizer.Encode("yes2"));
    }

    [Fact]
    public void Normalized_tokens_match_the_normalized_text_and_the_others_the_raw_text()
    {
        var tokenizer = Load(Normalizer("NFC"),
            AddedToken(50257, "caf\u00e9", special: false, normalized: true),       // composed
            AddedToken(50258, "ol\u0301e", special: true, normalized: false));       // decomposed, as written

        Assert.Equal([50257, .. Gpt2("!")], tokenizer.Encode("cafe\u0301!"));      // NFC makes the input match the composed token
        Assert.Equal([50257], tokenizer.Encode("caf\u00e9"));
        Assert.Equal([50258], tokenizer.Encode("ol\u0301e"));                      // found before NFC would compose it
        Assert.Equal(Gpt2("ol\u00e9"), tokenizer.Encode("ol\u00e9"));
    }
}
