namespace RlhfSharp.Tokenization;

/// <summary>
/// The beginning-of-sequence, end-of-sequence and padding tokens of a model; any of them may be absent (null).
/// Texts are the tokens' vocabulary entries.
/// </summary>
public sealed record SpecialTokens(int? BosId, int? EosId, int? PadId, string? BosText, string? EosText, string? PadText)
{
    /// <summary>
    /// The id to pad batches with. Rule: a model without a pad token (GPT-2, GPT-J) pads with its EOS id, as Hugging Face
    /// users do (<c>tokenizer.pad_token = tokenizer.eos_token</c>); null only when the model has neither.
    /// Padded positions must be masked (attention and loss) by position or length, never by comparing ids with this value,
    /// because with the fallback a real EOS token carries the same id.
    /// </summary>
    public int? PadIdOrEos => PadId ?? EosId;

    /// <summary>The tokens that have both id and text, as text -> id, for matching them literally in input text.</summary>
    internal Dictionary<string, int> ByText()
    {
        var result = new Dictionary<string, int>();
        foreach (var (id, text) in new[] { (BosId, BosText), (EosId, EosText), (PadId, PadText) })
            if (id is int i && text is not null) result.TryAdd(text, i);   // pad is often the EOS text
        return result;
    }
}
