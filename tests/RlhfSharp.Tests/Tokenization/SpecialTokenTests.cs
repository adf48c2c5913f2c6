using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>BOS/EOS/PAD from config.json, tokenizer_config.json and special_tokens_map.json over the tiny tokenizer.json.</summary>
public sealed class SpecialTokenTests : IDisposable
{
    readonly TempModelDirectory _dir = new();

    public SpecialTokenTests() => _dir.Write("tokenizer.json", TokenizerJsonFiles.Tiny());

    public void Dispose() => _dir.Dispose();

    ITextTokenizer Load() => TokenizerLoader.FromDirectory(_dir.Path)!;

    [Fact]
    public void Without_configuration_there_are_no_special_tokens()
    {
        var special = Load().Special;

        Assert.Equal(new SpecialTokens(null, null, null, null, null, null), special);
        Assert.Null(special.PadIdOrEos);
    }

    [Fact]
    public void Config_ids_give_ids_and_texts()
    {
        _dir.Write("config.json", """{"bos_token_id": 5, "eos_token_id": 6, "pad_token_id": 7}""");

        Assert.Equal(new SpecialTokens(5, 6, 7, "<s>", "</s>", "<pad>"), Load().Special);
    }

    [Fact]
    public void Without_pad_token_padding_uses_Eos()
    {
        // A list of EOS ids (recent configs) uses the first; null and -1 (old Llama conversions) mean no pad token.
        _dir.Write("config.json", """{"bos_token_id": 5, "eos_token_id": [6, 5], "pad_token_id": -1}""");
        _dir.Write("tokenizer_config.json", """{"pad_token": null}""");

        var special = Load().Special;

        Assert.Null(special.PadId);
        Assert.Equal(6, special.EosId);
        Assert.Equal(6, special.PadIdOrEos);
    }

    [Fact]
    public void Tokenizer_files_give_texts_as_strings_or_AddedToken_objects()
    {
        _dir.Write("tokenizer_config.json", """{"eos_token": {"__type": "AddedToken", "content": "</s>", "lstrip": false}, "pad_token": "<pad>"}""");
        _dir.Write("special_tokens_map.json", """{"bos_token": "<s>", "pad_token": "</s>"}""");

        var special = Load().Special;

        Assert.Equal(new SpecialTokens(5, 6, 7, "<s>", "</s>", "<pad>"), special);   // tokenizer_config.json before the map
        Assert.Equal(7, special.PadIdOrEos);
    }

    [Fact]
    public void A_null_token_in_the_tokenizer_files_means_none_not_the_default()
    {
        // Qwen2.5's tokenizer_config.json: no BOS, though "<|endoftext|>" would be the GPT-2 style default.
        _dir.Write("tokenizer.json", TokenizerJsonFiles.Tiny(new Dictionary<string, int> { ["<|endoftext|>"] = 8 }));
        _dir.Write("tokenizer_config.json", """{"bos_token": null, "eos_token": "</s>"}""");
        _dir.Write("special_tokens_map.json", """{"bos_token": "<s>"}""");

        var special = Load().Special;

        Assert.Null(special.BosId);
        Assert.Equal(6, special.EosId);
    }

    [Fact]
    public void Without_tokenizer_files_a_vocabulary_with_end_of_text_has_it_as_Bos_and_Eos()
    {
        _dir.Write("tokenizer.json", TokenizerJsonFiles.Tiny(new Dictionary<string, int> { ["<|endoftext|>"] = 8 }));

        Assert.Equal(new SpecialTokens(8, 8, null, "<|endoftext|>", "<|endoftext|>", null), Load().Special);
    }

    [Fact]
    public void Config_ids_win_over_tokenizer_files()
    {
        _dir.Write("config.json", """{"eos_token_id": 7}""");
        _dir.Write("tokenizer_config.json", """{"eos_token": "</s>"}""");

        Assert.Equal(7, Load().Special.EosId);
    }

    [Fact]
    public void Special_token_texts_encode_to_their_ids_even_when_only_in_the_vocabulary()
    {
        _dir.Write("tokenizer_config.json", """{"bos_token": "<s>", "eos_token": "</s>"}""");
        var tokenizer = Load();

        var ids = tokenizer.Encode("<s>hi hi</s>");

        Assert.Equal([5, 2, 4, 6], ids);
        Assert.Equal("<s>hi hi</s>", tokenizer.Decode(ids));
        Assert.Equal([1, 0], tokenizer.Encode("ih"));   // no merge "i h": single characters
    }
}
