namespace RlhfSharp.Tokenization;

/// <summary>Text to token ids and back, for one model's vocabulary.</summary>
public interface ITextTokenizer
{
    /// <summary>Plain text to ids; no BOS/EOS is added. Text equal to an added or special token encodes to its id.</summary>
    IReadOnlyList<int> Encode(string text);

    /// <summary>Ids to text; special tokens appear as their text (e.g. "&lt;|endoftext|&gt;").</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>One more than the largest id the tokenizer can produce (added tokens included).</summary>
    int VocabularySize { get; }

    /// <summary>BOS/EOS/PAD ids and texts; see <see cref="SpecialTokens.PadIdOrEos"/> for padding.</summary>
    SpecialTokens Special { get; }
}
