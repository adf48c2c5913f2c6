using RlhfSharp.Tokenization;

namespace RlhfSharp.Data;

/// <summary>
/// Turns examples into token ids for training. Prompt and response are encoded separately and concatenated, so the
/// prompt/response boundary is a token boundary (HH-style responses start with a space, which byte-level BPE attaches
/// to the next word anyway). The tokenizer's EOS id, when it has one, ends every response so the model learns to stop;
/// no BOS is added. A sequence longer than maxLength loses prompt tokens on the left, keeping the response whole; a
/// response that alone does not fit beside one prompt token is cut on the right instead (see <see cref="Truncation"/>).
/// The counters are safe to read and update from parallel callers.
/// </summary>
public sealed class ExampleEncoder(ITextTokenizer tokenizer)
{
    /// <summary>The label of positions that carry no loss (PyTorch's cross-entropy ignore_index default).</summary>
    public const int IgnoreLabel = -100;

    int _encoded, _promptTruncated, _responseTruncated;

    /// <summary>SFT examples and preference pairs encoded so far.</summary>
    public int EncodedCount => Volatile.Read(ref _encoded);

    /// <summary>Examples whose worst truncation was <see cref="Truncation.Prompt"/> (a pair counts once).</summary>
    public int PromptTruncatedCount => Volatile.Read(ref _promptTruncated);

    /// <summary>Examples with a response cut (<see cref="Truncation.Response"/>; a pair counts once).</summary>
    public int ResponseTruncatedCount => Volatile.Read(ref _responseTruncated);

    public EncodedSft EncodeSft(SftExample example, int maxLength)
    {
        var sequence = Encode(tokenizer.Encode(example.Prompt), example.Completion, maxLength);
        Count(sequence.Truncation);
        var labels = (int[])sequence.InputIds.Clone();
        labels.AsSpan(0, sequence.PromptLength).Fill(IgnoreLabel);
        return new EncodedSft(sequence.InputIds, labels, sequence.PromptLength, sequence.Truncation);
    }

    public EncodedPreference EncodePreference(PreferencePair pair, int maxLength)
    {
        var prompt = tokenizer.Encode(pair.Prompt);
        var result = new EncodedPreference(Encode(prompt, pair.Chosen, maxLength), Encode(prompt, pair.Rejected, maxLength));
        Count((Truncation)Math.Max((int)result.Chosen.Truncation, (int)result.Rejected.Truncation));
        return result;
    }

    /// <summary>One prompt + response as the reward model saw its training pairs (EOS appended, same truncation).</summary>
    public EncodedSequence EncodeSequence(string prompt, string response, int maxLength)
    {
        var result = Encode(tokenizer.Encode(prompt), response, maxLength);
        Count(result.Truncation);
        return result;
    }

    EncodedSequence Encode(IReadOnlyList<int> prompt, string responseText, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var response = tokenizer.Encode(responseText).ToList();
        if (tokenizer.Special.EosId is int eos) response.Add(eos);

        if (prompt.Count + response.Count <= maxLength) return Join(prompt, prompt.Count, response, response.Count, Truncation.None);

        int minPrompt = Math.Min(prompt.Count, 1); // the first response token still gets some context
        return response.Count + minPrompt <= maxLength
            ? Join(prompt, maxLength - response.Count, response, response.Count, Truncation.Prompt)
            : Join(prompt, minPrompt, response, maxLength - minPrompt, Truncation.Response);
    }

    /// <summary>The last <paramref name="promptKept"/> prompt ids, then the first <paramref name="responseKept"/> response ids.</summary>
    static EncodedSequence Join(IReadOnlyList<int> prompt, int promptKept, List<int> response, int responseKept, Truncation truncation)
    {
        var ids = new int[promptKept + responseKept];
        for (int i = 0; i < promptKept; i++) ids[i] = prompt[prompt.Count - promptKept + i];
        response.CopyTo(0, ids, promptKept, responseKept);
        return new EncodedSequence(ids, promptKept, truncation);
    }

    void Count(Truncation truncation)
    {
        Interlocked.Increment(ref _encoded);
        if (truncation == Truncation.Prompt) Interlocked.Increment(ref _promptTruncated);
        if (truncation == Truncation.Response) Interlocked.Increment(ref _responseTruncated);
    }
}
