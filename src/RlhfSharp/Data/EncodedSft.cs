namespace RlhfSharp.Data;

/// <summary>
/// An SFT example as token ids and next-token labels of the same length: <see cref="ExampleEncoder.IgnoreLabel"/> on
/// the first <see cref="PromptLength"/> (prompt) positions, the token id itself on the completion's. Labels are
/// unshifted, as Hugging Face causal LM losses expect: the loss at position t compares logits[t - 1] with Labels[t].
/// </summary>
public sealed record EncodedSft(int[] InputIds, int[] Labels, int PromptLength, Truncation Truncation)
{
    public bool PromptTruncated => Truncation != Truncation.None;
}
