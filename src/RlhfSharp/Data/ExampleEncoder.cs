using RlhfSharp.Tokenization;

namespace RlhfSharp.Data;

/// <summary>
/// Turns examples into token ids for training. Prompt and response are encoded separately and concatenated, so the
/// prompt/response boundary is a token boundary (HH-style responses start with a space, which byte-level BPE attaches
/// to the next word anyway). The tokenizer's EOS id, when it has one, ends every response so the model learns to stop;
/// no BOS is added (a chat template that writes one has it in its text). A chat rendered by the model's template is
/// encoded segment by segment instead (see <see cref="EncodeSft"/>). A sequence longer than maxLength loses prompt tokens on the left, keeping the response whole; a
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

    /// <summary>
    /// Labels are the ids on the trained tokens (the completion and its EOS; or every trained segment of a rendered chat,
    /// encoded segment by segment so that each segment's edges are token edges) and <see cref="IgnoreLabel"/> elsewhere.
    /// A rendered chat gets no EOS: its template closes each turn itself. <see cref="EncodedSft.PromptLength"/> counts the
    /// tokens before the first trained one; truncation treats everything from that token on as the response.
    /// </summary>
    public EncodedSft EncodeSft(SftExample example, int maxLength)
    {
        var ids = new List<int>();
        var trained = new List<bool>();
        void Add(IEnumerable<int> tokens, bool isTrained)
        {
            foreach (int id in tokens)
            {
                ids.Add(id);
                trained.Add(isTrained);
            }
        }
        if (example.Segments is { } segments)
            foreach (var segment in segments) Add(tokenizer.Encode(segment.Text), segment.Trained);
        else
        {
            Add(tokenizer.Encode(example.Prompt), false);
            Add(ResponseIds(example.Completion), true);
        }

        int firstTrained = trained.IndexOf(true) is int first and >= 0 ? first : ids.Count;
        var (start, length, truncation) = Window(ids.Count, firstTrained, maxLength);
        Count(truncation);
        var inputIds = ids.GetRange(start, length).ToArray();
        var labels = new int[length];
        for (int i = 0; i < length; i++) labels[i] = trained[start + i] ? inputIds[i] : IgnoreLabel;
        return new EncodedSft(inputIds, labels, Math.Min(firstTrained - start, length), truncation);
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
        var ids = prompt.Concat(ResponseIds(responseText)).ToList();
        var (start, length, truncation) = Window(ids.Count, prompt.Count, maxLength);
        return new EncodedSequence(ids.GetRange(start, length).ToArray(), Math.Min(prompt.Count - start, length), truncation);
    }

    /// <summary>The response's ids and the tokenizer's EOS, when it has one, so the model learns to stop.</summary>
    List<int> ResponseIds(string response)
    {
        var ids = tokenizer.Encode(response).ToList();
        if (tokenizer.Special.EosId is int eos) ids.Add(eos);
        return ids;
    }

    /// <summary>
    /// Which tokens of a sequence of <paramref name="count"/> whose response starts at <paramref name="responseStart"/> fit
    /// in <paramref name="maxLength"/>: all of them; else the last maxLength (the prompt loses tokens on the left, the
    /// response is whole); else, when the response alone does not fit beside one prompt token, that token and the start of
    /// the response (cut on the right).
    /// </summary>
    internal static (int Start, int Length, Truncation Truncation) Window(int count, int responseStart, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        if (count <= maxLength) return (0, count, Truncation.None);
        int minPrompt = Math.Min(responseStart, 1); // the first response token still gets some context
        return count - responseStart + minPrompt <= maxLength
            ? (count - maxLength, maxLength, Truncation.Prompt)
            : (responseStart - minPrompt, maxLength, Truncation.Response);
    }

    void Count(Truncation truncation)
    {
        Interlocked.Increment(ref _encoded);
        if (truncation == Truncation.Prompt) Interlocked.Increment(ref _promptTruncated);
        if (truncation == Truncation.Response) Interlocked.Increment(ref _responseTruncated);
    }
}
