using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>A sampled response as trained on: its ids, their text (what the reward scores), why sampling stopped, and each id's
/// log-probability under the policy's own distribution as the sampler computed it (<see cref="GeneratedSequence.LogProbs"/>).</summary>
internal sealed record SampledCompletion(IReadOnlyList<int> Ids, string Text, FinishReason FinishReason, IReadOnlyList<float> LogProbs);

/// <summary>
/// Sequences laid out [left-padded prompt | right-padded response]: the prompt fills columns [0, <see cref="PromptColumns"/>)
/// and response token j sits at column PromptColumns + j, so the logits that predict it are read at column
/// PromptColumns + j - 1 (<see cref="Ppo.ResponseTokens"/>). <see cref="ResponseMask"/> [rows, responseColumns] is 1 at real
/// response tokens.
/// </summary>
internal sealed record SequenceLayout(Tensor Ids, Tensor Attention, long PromptColumns, Tensor ResponseMask)
{
    public long ResponseColumns => ResponseMask.shape[1];
    public DecoderInput Input => new(Ids, Attention);
}

/// <summary>
/// What every on-policy trainer (ppo, grpo, rloo) does to get experience from its policy: encode and fit the prompts,
/// sample responses, keep the ids the policy sampled (cut at a stop sequence) with their text, and lay prompts and
/// responses out for the forward passes that score them token by token.
/// </summary>
/// <param name="maxLength">Prompt tokens kept at most (max_length), cut from the left; the context's room beside max_new_tokens cuts further.</param>
internal sealed class CompletionSampler(CausalLanguageModel policy, ITextTokenizer tokenizer, SamplingOptions sampling, int maxLength)
{
    /// <summary>Prompt ids by prompt text, cut to the budget (see <see cref="EncodePrompts"/>).</summary>
    readonly Dictionary<string, IReadOnlyList<int>> _encoded = [];

    public ITextTokenizer Tokenizer => tokenizer;

    /// <summary>
    /// Prompt ids cut from the left to max_length, and to what the model's positions leave after
    /// max_new_tokens (<see cref="PromptFit"/>), so prompt + response always fits. Each prompt is encoded once per run:
    /// every epoch draws it again and every evaluation scores the same held-out prompts.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<int>> EncodePrompts(IReadOnlyList<string> prompts)
    {
        int budget = Math.Min(maxLength, ContextWindow.Of(policy.Config).PromptRoom(sampling.MaxNewTokens));
        return prompts.Select(p =>
        {
            if (!_encoded.TryGetValue(p, out var ids)) _encoded[p] = ids = PromptFit.CutLeft(tokenizer.Encode(p), budget);
            return ids;
        }).ToList();
    }

    /// <summary>
    /// Samples one response per prompt with <paramref name="seed"/> (row i draws from the stream of index
    /// <paramref name="firstIndex"/> + i, see <see cref="TextGenerator"/>); <paramref name="nextTokenHidden"/> sees each step's
    /// final hidden states (<see cref="TextGenerator.NextTokenHidden"/>).
    /// </summary>
    public IReadOnlyList<SampledCompletion> Sample(IReadOnlyList<IReadOnlyList<int>> promptIds, ulong seed, long firstIndex = 0,
        Action<Tensor>? nextTokenHidden = null) =>
        new TextGenerator(policy, tokenizer) { NextTokenHidden = nextTokenHidden }.Generate(promptIds, sampling with { Seed = seed }, firstIndex)
            .Select(g =>
            {
                var ids = ResponseIds(g);
                return new SampledCompletion(ids, ResponseText(g, ids), g.FinishReason, g.LogProbs.Take(ids.Count).ToList());
            }).ToList();

    /// <summary>The greedy responses' text (held-out evaluation), stopping where sampling stops.</summary>
    public IReadOnlyList<string> Greedy(IReadOnlyList<string> prompts) =>
        new TextGenerator(policy, tokenizer).Generate(EncodePrompts(prompts), sampling with { Greedy = true }).Select(g => g.Text ?? "").ToList();

    /// <summary>
    /// The response as trained on: the ids the policy sampled (decoding and encoding again is not the identity, and would
    /// train on sequences never sampled), cut before the token in which a stop sequence begins
    /// (<see cref="TextGenerator.TokensBeforeStopSequence"/>), nothing appended: EOS is there only where it was sampled.
    /// At most max_new_tokens ids. A response keeps at least its first token, which carries the score.
    /// </summary>
    IReadOnlyList<int> ResponseIds(GeneratedSequence sequence)
    {
        int keep = sequence.FinishReason == FinishReason.StopSequence
            ? TextGenerator.TokensBeforeStopSequence(sequence.TokenIds, tokenizer, sampling.StopSequences)
            : sequence.TokenIds.Count;
        return sequence.TokenIds.Take(Math.Max(1, keep)).ToList();
    }

    /// <summary>The text of the trained ids, without a sampled EOS: the generator's own text unless a stop sequence cut the ids.</summary>
    string ResponseText(GeneratedSequence sequence, IReadOnlyList<int> ids) =>
        sequence.FinishReason == FinishReason.StopSequence ? tokenizer.Decode(ids) : sequence.Text!;

    /// <summary>Prompts and responses as one batch, padded with the tokenizer's pad id (else EOS, else 0).</summary>
    public SequenceLayout Layout(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<IReadOnlyList<int>> responses)
    {
        int promptColumns = prompts.Max(p => p.Count), responseColumns = responses.Max(r => r.Count), batch = prompts.Count;
        int width = promptColumns + responseColumns;
        long pad = tokenizer.Special.PadIdOrEos ?? 0;
        var ids = Enumerable.Repeat(pad, batch * width).ToArray();
        var attention = new long[batch * width];
        var responseMask = new float[batch * responseColumns];
        for (int row = 0; row < batch; row++)
        {
            int offset = promptColumns - prompts[row].Count;
            for (int t = 0; t < prompts[row].Count; t++) (ids[row * width + offset + t], attention[row * width + offset + t]) = (prompts[row][t], 1);
            for (int t = 0; t < responses[row].Count; t++)
            {
                (ids[row * width + promptColumns + t], attention[row * width + promptColumns + t]) = (responses[row][t], 1);
                responseMask[row * responseColumns + t] = 1;
            }
        }
        return new SequenceLayout(tensor(ids).view(batch, width), tensor(attention).view(batch, width), promptColumns,
            tensor(responseMask).view(batch, responseColumns));
    }
}
