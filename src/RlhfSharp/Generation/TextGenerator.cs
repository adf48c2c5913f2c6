using RlhfSharp.Generation.FusedDecode;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using static TorchSharp.torch;

namespace RlhfSharp.Generation;

/// <summary>
/// Batched autoregressive generation from a causal LM: prompts are left-padded so every row's next token
/// sits in the last column, padding is masked out, positions count real tokens only, and each step feeds
/// one token per row through a preallocated KV cache. Each row samples from its own random stream, seeded from
/// <see cref="SamplingOptions.Seed"/> and the row's prompt index in the run (<c>firstIndex</c> + row): every prompt is
/// an independent draw, a prompt's sample does not depend on the batch it shares or the batch size, and a rerun with the
/// same seed is identical.
/// </summary>
public sealed class TextGenerator(CausalLanguageModel model, ITextTokenizer? tokenizer = null)
{
    public CausalLanguageModel Model { get; } = model;
    public ITextTokenizer? Tokenizer { get; } = tokenizer;

    /// <summary>Called after each generation step has chosen its tokens, with the step's index (benchmarks time steps with it).</summary>
    public Action<int>? StepCompleted { get; init; }

    /// <summary>Called once per new token, before it is drawn, with the model's final hidden states [batch, hidden] at the position
    /// whose logits it is drawn from (the tensor is valid during the call only). PPO applies its value head to them instead of
    /// running the policy over the sampled sequences again.</summary>
    public Action<Tensor>? NextTokenHidden { get; init; }

    /// <summary>Whether the last <see cref="Generate(IReadOnlyList{IReadOnlyList{int}}, SamplingOptions, long)"/> ran (or, with a
    /// single new token, would have run) its decode steps through <see cref="FusedSingleSequenceStep"/> (tests check that the path
    /// they compare was taken).</summary>
    internal bool LastRunFused { get; private set; }

    /// <summary>Why the last generation's steps kept the module path, or null (fused, or never asked: batch above 1, no cache, turned off).</summary>
    internal string? LastFusedDecline { get; private set; }

    /// <summary>Whether fused steps split their products over threads, measured across this generator's generations.</summary>
    readonly DecodeThreadChoice _threadChoice = new();

    int PadId => Tokenizer?.Special.PadId ?? Model.Config.PadTokenId ?? EosId ?? 0;
    int? EosId => Model.Config.EosTokenId ?? Tokenizer?.Special.EosId;

    /// <summary>The model's end ids (config.json's list and generation_config.json's), else the tokenizer's EOS: a set,
    /// built once, since every row asks at every step.</summary>
    HashSet<int> StopIds => _stopIds ??= [.. Model.Config.StopTokenIds is { Count: > 0 } ids ? ids : Tokenizer?.Special.EosId is int eos ? [eos] : []];

    HashSet<int>? _stopIds;

    /// <param name="firstIndex">The run's index of the first prompt: callers that generate a run in batches pass each
    /// batch's offset, so that every prompt of the run gets its own stream.</param>
    public IReadOnlyList<GeneratedSequence> Generate(IReadOnlyList<string> prompts, SamplingOptions options, long firstIndex = 0)
    {
        var tokenizer = Tokenizer ?? throw new RlhfException("this model directory has no tokenizer files; pass token ids instead of text");
        return Generate(prompts.Select(p => tokenizer.Encode(p)).ToList(), options, firstIndex);
    }

    /// <inheritdoc cref="Generate(IReadOnlyList{string}, SamplingOptions, long)"/>
    public IReadOnlyList<GeneratedSequence> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, SamplingOptions options, long firstIndex = 0)
    {
        options.Validate();
        if (prompts.Count == 0) return [];
        if (prompts.Any(p => p.Count == 0)) throw new RlhfException("a prompt is empty: generation needs at least one token to condition on");
        if (options.StopSequences.Count > 0 && Tokenizer is null)
            throw new RlhfException("stop sequences need a tokenizer to read the generated text");

        int batch = prompts.Count, promptLength = prompts.Max(p => p.Count);
        long capacity = promptLength + options.MaxNewTokens;
        // The forward refuses positions past the context: refuse up front rather than fail mid-generation.
        if (capacity > Model.Config.MaxPositions)
            throw new RlhfException($"prompt of {promptLength} tokens + {options.MaxNewTokens} new tokens exceeds the model's context of {Model.Config.MaxPositions} positions");
        var rows = prompts.Select(p => new RowState(p)).ToArray();
        var streams = options.Greedy ? [] : Enumerable.Range(0, batch).Select(row => new Generator(Seeds.Stream(options.Seed, firstIndex + row))).ToArray();
        using var disposeStreams = new DisposeAll(streams);
        using var noGrad = no_grad();
        Model.eval();

        // Token ids and the attention mask live in buffers sized for the whole run; each step fills a column.
        using var ids = full([batch, capacity], PadId, ScalarType.Int64);
        using var mask = zeros([batch, capacity], ScalarType.Int64);
        for (int row = 0; row < batch; row++)
        {
            int offset = promptLength - prompts[row].Count;
            ids[row].narrow(0, offset, prompts[row].Count).copy_(tensor(prompts[row].Select(t => (long)t).ToArray()));
            mask[row].narrow(0, offset, prompts[row].Count).fill_(1);
        }
        using var cache = options.UseCache ? new KvCache(Model.Config, batch, capacity) : null;

        // One sequence through the cache: its steps may skip LibTorch's per-operation dispatch (the prefill stays with the modules).
        string? decline = null;
        using var fused = batch == 1 && cache is not null && FusedDecodeSwitch.Enabled
            ? FusedSingleSequenceStep.TryCreate(Model, cache, out decline, threadChoice: _threadChoice)
            : null;
        (LastRunFused, LastFusedDecline) = (fused is not null, decline);

        long length = promptLength;
        var logits = NextTokenLogits(ids, mask, length, fed: 0, cache);
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var logProbs = logits.log_softmax(-1);
                var tokens = options.Greedy ? logits.argmax(-1) : Sample(LogitsProcessing.ForSampling(logits, options).softmax(-1), streams, rows);
                var chosen = logProbs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1);
                long[] tokenIds = tokens.data<long>().ToArray();
                float[] tokenLogProbs = chosen.data<float>().ToArray();
                for (int row = 0; row < batch; row++)
                {
                    if (rows[row].Finished is not null) { tokenIds[row] = PadId; continue; }
                    rows[row].Append((int)tokenIds[row], tokenLogProbs[row]);
                    rows[row].Finished = FinishedBy(rows[row], (int)tokenIds[row], options);
                }
                ids.narrow(1, length, 1).copy_(tensor(tokenIds).unsqueeze(1));
                mask.narrow(1, length, 1).fill_(1);
                length++;
            }
            StepCompleted?.Invoke(step);
            logits.Dispose();
            if (rows.All(r => r.Finished is not null) || step == options.MaxNewTokens - 1) break;
            logits = fused is not null ? FusedLogits(fused, rows[0].Tokens[^1]) : NextTokenLogits(ids, mask, length, fed: length - 1, cache);
        }
        logits.Dispose();
        return rows.Select(r => r.ToResult(Tokenizer, options)).ToList();
    }

    /// <summary>One draw per unfinished row from the row's own stream (finished rows draw nothing and get 0).</summary>
    static Tensor Sample(Tensor probabilities, Generator[] streams, RowState[] rows)
    {
        var tokens = new long[rows.Length];
        for (int row = 0; row < rows.Length; row++)
            if (rows[row].Finished is null) tokens[row] = probabilities[row].multinomial(1, generator: streams[row]).item<long>();
        return tensor(tokens);
    }

    sealed class DisposeAll(IEnumerable<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item.Dispose();
        }
    }

    /// <summary>The fused step's next-token logits [1, vocab] for <paramref name="token"/>, the hidden state handed to <see cref="NextTokenHidden"/> first.</summary>
    Tensor FusedLogits(FusedSingleSequenceStep fused, long token)
    {
        var (logits, hidden) = fused.Step(token);
        using (hidden) NextTokenHidden?.Invoke(hidden);
        return logits;
    }

    /// <summary>Runs the positions not yet seen (all of them without a cache) and returns the last column's logits [batch, vocab].</summary>
    Tensor NextTokenLogits(Tensor ids, Tensor mask, long length, long fed, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        long start = cache is null ? 0 : fed;
        var input = new DecoderInput(ids.narrow(1, start, length - start), mask.narrow(1, 0, length), Cache: cache);
        if (NextTokenHidden is null) return Model.LastPositionLogits(input).to(ScalarType.Float32).MoveToOuterDisposeScope();
        var hidden = Model.Hidden(input);
        var last = hidden.select(1, hidden.shape[1] - 1);
        NextTokenHidden(last);
        return Model.Logits(last).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    FinishReason? FinishedBy(RowState row, int token, SamplingOptions options)
    {
        if (options.StopAtEos && StopIds.Contains(token)) return FinishReason.EndOfSequence;
        if (options.StopSequences.Count > 0 && StopSequenceIndex(Tokenizer!.Decode(row.Tokens), options.StopSequences) >= 0)
            return FinishReason.StopSequence;
        return row.Tokens.Count == options.MaxNewTokens ? FinishReason.Length : null;
    }

    /// <summary>Where the earliest stop sequence starts in <paramref name="text"/>, or -1.</summary>
    public static int StopSequenceIndex(string text, IReadOnlyList<string> stopSequences)
    {
        int earliest = -1;
        foreach (string stop in stopSequences)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
        }
        return earliest;
    }

    /// <summary>
    /// How many leading <paramref name="tokens"/> lie wholly before the earliest stop sequence in their text: the tokens
    /// before the one in which it begins. A token that straddles its start (part of the token's text before the stop
    /// sequence, part in it) is dropped, and with it that part, so the kept ids decode to a prefix of the text before the
    /// stop sequence. All of them when no stop sequence occurs; 0 when it begins in the first token.
    /// </summary>
    public static int TokensBeforeStopSequence(IReadOnlyList<int> tokens, ITextTokenizer tokenizer, IReadOnlyList<string> stopSequences)
    {
        string text = tokenizer.Decode(tokens);
        int stop = StopSequenceIndex(text, stopSequences);
        if (stop < 0) return tokens.Count;
        // The longest run of tokens whose text is a prefix of the text before the stop sequence (a run that ends inside a
        // multi-byte character decodes to a replacement character and is not one).
        string before = text[..stop];
        for (int count = tokens.Count - 1; count > 0; count--)
            if (before.StartsWith(tokenizer.Decode(tokens.Take(count)), StringComparison.Ordinal)) return count;
        return 0;
    }

    sealed class RowState(IReadOnlyList<int> prompt)
    {
        public List<int> Tokens { get; } = [];
        public List<float> LogProbs { get; } = [];
        public FinishReason? Finished { get; set; }

        public void Append(int token, float logProb)
        {
            Tokens.Add(token);
            LogProbs.Add(logProb);
        }

        public GeneratedSequence ToResult(ITextTokenizer? tokenizer, SamplingOptions options)
        {
            string? text = null;
            if (tokenizer is not null)
            {
                bool endsWithEos = Finished == FinishReason.EndOfSequence;
                text = tokenizer.Decode(endsWithEos ? Tokens.Take(Tokens.Count - 1) : Tokens);
                int stop = StopSequenceIndex(text, options.StopSequences);
                if (stop >= 0) text = text[..stop];
            }
            return new GeneratedSequence(prompt, Tokens, LogProbs, text, Finished ?? FinishReason.Length);
        }
    }
}
