namespace RlhfSharp.Data;

/// <summary>Token ids of a prompt followed by a response; the first <see cref="PromptLength"/> ids are the prompt's.</summary>
public sealed record EncodedSequence(int[] InputIds, int PromptLength, Truncation Truncation)
{
    public bool PromptTruncated => Truncation != Truncation.None;
}
