using System.Text.Json;
using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Reads tokenizer.json's normalizer, pre_tokenizer and decoder for byte-level BPE: the pipelines of GPT-2, Qwen2.5
/// (NFC; Split by its regex, then ByteLevel without regex), Llama 3 (the same with its regex), SmolLM2 (Digits, then
/// ByteLevel with regex) and tiktoken-style conversions. Anything else is an error naming the field; SentencePiece-style
/// components (Metaspace, Prepend, Replace...) say that the model's tokenizer.model is what serves. post_processor is
/// not read: encoding never adds BOS or EOS (see <see cref="ITextTokenizer.Encode"/>).
/// </summary>
internal static class TokenizerPipelineJson
{
    static readonly string[] SentencePieceStyle = ["Metaspace", "Prepend", "Replace", "Strip", "ByteFallback", "Fuse", "Precompiled"];

    internal static BpePipeline Read(string path, JsonElement root, JsonElement model)
    {
        var normalizer = TokenizerFile.Field(root, "normalizer") is { } n ? ReadNormalizer(path, n, "normalizer") : TextNormalizer.None;
        var preTokenizer = TokenizerFile.Field(root, "pre_tokenizer") is { } p
            ? ReadPreTokenizer(path, p)
            : throw TokenizerFile.Error(path, "pre_tokenizer", "is missing; byte-level BPE needs a ByteLevel pre-tokenizer");
        if (preTokenizer.Steps[^1] is not ByteLevelStep || preTokenizer.Steps.Count(step => step is ByteLevelStep) > 1)
            throw TokenizerFile.Error(path, "pre_tokenizer", "must end with ByteLevel, and have it only there (byte-level BPE maps bytes last)");
        if (TokenizerFile.Field(root, "decoder") is { } decoder) CheckDecoder(path, decoder, "decoder");
        CheckModelOptions(path, model);
        return new BpePipeline(normalizer, preTokenizer, IgnoreMerges: IsTrue(model, "ignore_merges"));
    }

    internal static TextNormalizer ReadNormalizer(string path, JsonElement normalizer, string field)
    {
        var forms = new List<TextNormalizer.Form>();
        AddForms(normalizer, field);
        return new TextNormalizer(forms);

        void AddForms(JsonElement component, string at)
        {
            switch (TypeOf(path, component, at))
            {
                case "NFC": forms.Add(TextNormalizer.Form.Nfc); break;
                case "NFD": forms.Add(TextNormalizer.Form.Nfd); break;
                case "NFKC" or "NFKD":
                    throw TokenizerFile.Error(path, at, $"\"{TypeOf(path, component, at)}\" is not supported (compatibility forms need Unicode data this build lacks); NFC and NFD are");
                case "Sequence":
                    int i = 0;
                    foreach (var inner in Items(path, component, "normalizers", at)) AddForms(inner, $"{at}.normalizers[{i++}]");
                    break;
                case var type:
                    throw Unsupported(path, at, type, "byte-level BPE here takes NFC, NFD or a Sequence of them");
            }
        }
    }

    internal static PreTokenizerPipeline ReadPreTokenizer(string path, JsonElement preTokenizer)
    {
        var steps = new List<IPreTokenizerStep>();
        AddSteps(preTokenizer, "pre_tokenizer");
        return steps.Count > 0 ? new PreTokenizerPipeline(steps) : throw TokenizerFile.Error(path, "pre_tokenizer", "is an empty Sequence");

        void AddSteps(JsonElement component, string at)
        {
            switch (TypeOf(path, component, at))
            {
                case "ByteLevel":
                    steps.Add(new ByteLevelStep(IsTrue(component, "add_prefix_space"), IsTrue(component, "use_regex", missing: true)));
                    break;
                case "Digits":
                    steps.Add(new DigitsStep(IsTrue(component, "individual_digits")));
                    break;
                case "Split":
                    steps.Add(ReadSplit(path, component, at));
                    break;
                case "Sequence":
                    int i = 0;
                    foreach (var inner in Items(path, component, "pretokenizers", at)) AddSteps(inner, $"{at}.pretokenizers[{i++}]");
                    break;
                case var type:
                    throw Unsupported(path, at, type, "byte-level BPE here takes Split, Digits, ByteLevel or a Sequence of them");
            }
        }
    }

    static RegexSplitStep ReadSplit(string path, JsonElement split, string at)
    {
        var pattern = TokenizerFile.Field(split, "pattern");
        Regex regex;
        if (pattern is { } p && TokenizerFile.StringField(p, "Regex") is { } source)
        {
            try
            {
                regex = OnigurumaPattern.ToDotNet(source);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw TokenizerFile.Error(path, $"{at}.pattern.Regex", $"cannot be used: {e.Message.ReplaceLineEndings(" ")}");
            }
        }
        else if (pattern is { } q && TokenizerFile.StringField(q, "String") is { } literal)
        {
            regex = new Regex(Regex.Escape(literal), RegexOptions.CultureInvariant);
        }
        else
        {
            throw TokenizerFile.Error(path, $"{at}.pattern", "must be {\"Regex\": ...} or {\"String\": ...}");
        }

        string? behavior = TokenizerFile.StringField(split, "behavior");
        return behavior is not null && Enum.GetNames<SplitBehavior>().Contains(behavior)
            ? new RegexSplitStep(new CodePointRegex(regex), Enum.Parse<SplitBehavior>(behavior), IsTrue(split, "invert"))
            : throw TokenizerFile.Error(path, $"{at}.behavior",
                $"\"{behavior}\" is not one of {string.Join(", ", Enum.GetNames<SplitBehavior>())}");
    }

    static void CheckDecoder(string path, JsonElement decoder, string at)
    {
        switch (TypeOf(path, decoder, at))
        {
            case "ByteLevel": return;
            case "Sequence":
                int i = 0;
                foreach (var inner in Items(path, decoder, "decoders", at)) CheckDecoder(path, inner, $"{at}.decoders[{i++}]");
                return;
            case var type:
                throw Unsupported(path, at, type, "byte-level BPE decodes with ByteLevel");
        }
    }

    static void CheckModelOptions(string path, JsonElement model)
    {
        foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (TokenizerFile.StringField(model, affix) is { Length: > 0 } value)
                throw TokenizerFile.Error(path, $"model.{affix}", $"\"{value}\" is not supported; byte-level BPE here has none");
        if (TokenizerFile.Field(model, "dropout") is { ValueKind: JsonValueKind.Number } dropout && dropout.GetDouble() > 0)
            throw TokenizerFile.Error(path, "model.dropout", "is not supported (it makes encoding random); set it to null");
    }

    static string TypeOf(string path, JsonElement component, string at) =>
        TokenizerFile.StringField(component, "type") ?? throw TokenizerFile.Error(path, at, "needs a \"type\"");

    static JsonElement.ArrayEnumerator Items(string path, JsonElement sequence, string name, string at) =>
        TokenizerFile.Field(sequence, name) is { ValueKind: JsonValueKind.Array } items
            ? items.EnumerateArray()
            : throw TokenizerFile.Error(path, $"{at}.{name}", "must be an array");

    static RlhfException Unsupported(string path, string at, string type, string supported) =>
        TokenizerFile.Error(path, at, SentencePieceStyle.Contains(type)
            ? $"\"{type}\" is not supported: a SentencePiece-style tokenizer.json loads through the tokenizer.model that comes with it, and this folder has none"
            : $"\"{type}\" is not supported; {supported}");

    internal static bool IsTrue(JsonElement obj, string name, bool missing = false) =>
        TokenizerFile.Field(obj, name) is { } value ? value.ValueKind == JsonValueKind.True : missing;
}
