namespace RlhfSharp.Generation;

public enum FinishReason
{
    /// <summary>The model produced its end-of-sequence token (included in <see cref="GeneratedSequence.TokenIds"/>).</summary>
    EndOfSequence,
    /// <summary>The text reached a stop sequence (its tokens are included; the text is cut before it).</summary>
    StopSequence,
    /// <summary>max_new_tokens was reached.</summary>
    Length,
}

/// <summary>
/// One prompt's continuation. <see cref="LogProbs"/>[i] is log p(TokenIds[i] | prefix) under the model's
/// own distribution (temperature 1, no filtering): what PPO needs as the policy's log-probability,
/// whatever sampling settings picked the token.
/// </summary>
public sealed record GeneratedSequence(
    IReadOnlyList<int> PromptIds,
    IReadOnlyList<int> TokenIds,
    IReadOnlyList<float> LogProbs,
    string? Text,
    FinishReason FinishReason);
