using ADRaffy.ENSNormalize;

namespace RlhfSharp.Tokenization;

/// <summary>
/// tokenizer.json's normalizer as a sequence of canonical Unicode normalizations (NFC, NFD; Qwen2.5 uses NFC), applied
/// to input text outside the added tokens. Empty: no normalizer. The forms come from ENSNormalize's NF (Unicode's own
/// normalization tests pass on it) because string.Normalize needs ICU, which this project's InvariantGlobalization
/// leaves out: there it returns non-ASCII text unchanged.
/// </summary>
internal sealed class TextNormalizer(IReadOnlyList<TextNormalizer.Form> forms)
{
    internal enum Form { Nfc, Nfd }

    internal static readonly TextNormalizer None = new([]);

    public IReadOnlyList<Form> Forms { get; } = forms;

    internal string Normalize(string text)
    {
        foreach (var form in Forms)
            if (!IsAscii(text)) text = form == Form.Nfc ? ENSNormalize.NF.NFC(text) : ENSNormalize.NF.NFD(text);
        return text;
    }

    static bool IsAscii(string text) => System.Text.Ascii.IsValid(text);   // ASCII is in every form already
}
