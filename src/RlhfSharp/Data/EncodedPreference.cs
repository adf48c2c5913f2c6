namespace RlhfSharp.Data;

/// <summary>A preference pair as two token sequences, each the (possibly truncated) prompt followed by its response.</summary>
public sealed record EncodedPreference(EncodedSequence Chosen, EncodedSequence Rejected)
{
    public bool PromptTruncated => Chosen.PromptTruncated || Rejected.PromptTruncated;
}
