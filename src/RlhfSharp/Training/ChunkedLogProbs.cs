using RlhfSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>
/// Token log-probabilities log softmax(h·Wᵀ + b)[target] of rows of hidden states, projected through the LM head a chunk of
/// rows at a time, so no [rows, vocab] logits tensor is ever held: at a 50k vocabulary a batch of 8 x 256 positions would
/// hold 400 MB of logits (and as much again for their gradient), allocated anew at every step. Only the positions that
/// are scored are projected (response tokens, not prompt or padding). Backward recomputes each chunk's logits from the
/// saved hidden states and the log-sum-exp of forward. SFT's cross-entropy, DPO's sequence log-probabilities and PPO's and
/// GRPO's per-token log-probabilities all come from here.
/// </summary>
public static class ChunkedLogProbs
{
    /// <summary>Logit elements per chunk: 4M floats, 16 MB, under glibc's largest mmap threshold (32 MB), so a chunk's buffer is
    /// reused from the heap rather than mapped and unmapped each time; large enough that the head's matmul stays efficient
    /// (83 rows at 50257 tokens).</summary>
    public const long ChunkElements = 1L << 22;

    /// <summary>Rows per chunk for a vocabulary of <paramref name="vocab"/> tokens.</summary>
    public static long RowsPerChunk(long vocab) => Math.Max(1, ChunkElements / vocab);

    /// <summary>log p(targets[i] | hidden[i]) [rows] of hidden states [rows, hidden]; differentiable in the hidden states and
    /// the head's parameters. <paramref name="rowsPerChunk"/> 0: <see cref="RowsPerChunk"/> of the head's vocabulary. With
    /// <paramref name="entropy"/> (a contiguous [rows] tensor), also writes there each row's <see cref="Entropy"/>, from the same
    /// logits (no graph): PPO logs the policy's entropy without projecting the rows through the head a second time.</summary>
    public static Tensor Gather(Tensor hidden, LmHead head, Tensor targets, long rowsPerChunk = 0, Tensor? entropy = null)
    {
        long chunk = rowsPerChunk > 0 ? rowsPerChunk : RowsPerChunk(head.VocabSize);
        bool graph = is_grad_enabled() && (hidden.requires_grad || head.Weight.requires_grad || head.Bias?.requires_grad == true);
        if (!graph) return Forward(hidden, head, targets, chunk, hiddenGradient: false, entropy).LogProbs;
        var settings = new ChunkedForward(chunk, entropy);
        object[] args = head.Bias is { } bias ? [settings, hidden, head.Weight, targets, bias] : [settings, hidden, head.Weight, targets];
        return ChunkedLogProbsFunction.apply(args);
    }

    /// <summary>The entropy -Σ_v p_v log p_v [rows] of each row's next-token distribution, a chunk at a time, without a graph.</summary>
    public static Tensor Entropy(Tensor hidden, LmHead head, long rowsPerChunk = 0)
    {
        using var noGrad = no_grad();
        long chunk = rowsPerChunk > 0 ? rowsPerChunk : RowsPerChunk(head.VocabSize);
        long rows = hidden.shape[0];
        var entropy = empty(rows, dtype: hidden.dtype);
        for (long start = 0; start < rows; start += chunk)
        {
            using var scope = NewDisposeScope();
            long count = Math.Min(chunk, rows - start);
            var logP = head.Logits(hidden.narrow(0, start, count)).log_softmax(1);
            entropy.narrow(0, start, count).copy_(-(logP.exp() * logP).sum(1));
        }
        return entropy;
    }

    /// <summary>
    /// The log-probabilities of the scored tokens of hidden states [batch, time, hidden]: position t predicts labels[:, t + 1],
    /// and only labels other than <see cref="Losses.IgnoreIndex"/> are scored, in row-major order. Returns them [scored] and the
    /// batch row each belongs to [scored].
    /// </summary>
    public static (Tensor LogProbs, Tensor Rows) Scored(Tensor hidden, LmHead head, Tensor labels, long rowsPerChunk = 0)
    {
        using var scope = NewDisposeScope();
        long time = hidden.shape[1];
        var targets = labels.narrow(1, 1, time - 1).flatten();
        var positions = targets.ne(Losses.IgnoreIndex).nonzero().squeeze(1);
        var rows = hidden.narrow(1, 0, time - 1).flatten(0, 1).index_select(0, positions);
        var logProbs = Gather(rows, head, targets.index_select(0, positions), rowsPerChunk);
        var batchRows = positions.div(time - 1, rounding_mode: RoundingMode.floor);
        return (logProbs.MoveToOuterDisposeScope(), batchRows.MoveToOuterDisposeScope());
    }

    /// <summary>log p(response token) [batch, responseColumns] of hidden states [batch, time, hidden] over sequences laid out as
    /// prompt columns then response columns (<see cref="Ppo.RolloutBatch"/>): column c predicts token c + 1, so only the
    /// responseColumns columns from promptColumns - 1 on are projected. With <paramref name="entropy"/> (contiguous [batch,
    /// responseColumns]), also each position's entropy (see <see cref="Gather"/>).</summary>
    public static Tensor Response(Tensor hidden, LmHead head, Tensor ids, long promptColumns, long responseColumns, long rowsPerChunk = 0,
        Tensor? entropy = null)
    {
        using var scope = NewDisposeScope();
        long batch = hidden.shape[0];
        var rows = hidden.narrow(1, promptColumns - 1, responseColumns).reshape(batch * responseColumns, hidden.shape[2]);
        var targets = ids.narrow(1, promptColumns, responseColumns).reshape(batch * responseColumns);
        return Gather(rows, head, targets, rowsPerChunk, entropy?.view(batch * responseColumns)).view(batch, responseColumns).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Ppo.PpoMath.Entropy"/> of the response tokens of hidden states laid out as in <see cref="Response"/>: the
    /// mean over real tokens (<paramref name="mask"/> [batch, responseColumns]) of the policy's entropy, without a graph.</summary>
    public static Tensor ResponseEntropy(Tensor hidden, LmHead head, long promptColumns, Tensor mask, long rowsPerChunk = 0)
    {
        using var scope = NewDisposeScope();
        long batch = mask.shape[0], responseColumns = mask.shape[1];
        var rows = hidden.narrow(1, promptColumns - 1, responseColumns).reshape(batch * responseColumns, hidden.shape[2]);
        return Ppo.PpoMath.MaskedMean(Entropy(rows, head, rowsPerChunk).view(batch, responseColumns), mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The log-probabilities [rows] and each row's log-sum-exp [rows], a chunk at a time; with <paramref name="hiddenGradient"/>
    /// also each row's d log p / d hidden = W[target] - Σ_v p_v W_v [rows, hidden], all a frozen head's backward needs; with
    /// <paramref name="entropy"/>, each row's entropy written there.
    /// </summary>
    internal static (Tensor LogProbs, Tensor LogSumExp, Tensor? HiddenGradient) Forward(Tensor hidden, LmHead head, Tensor targets, long chunk,
        bool hiddenGradient, Tensor? entropy = null)
    {
        using var noGrad = no_grad();
        long rows = hidden.shape[0];
        var logProbs = empty(rows, dtype: hidden.dtype);
        var logSumExp = empty(rows, dtype: hidden.dtype);
        var gradient = hiddenGradient ? empty_like(hidden) : null;
        for (long start = 0; start < rows; start += chunk)
        {
            using var scope = NewDisposeScope();
            long count = Math.Min(chunk, rows - start);
            var chunkTargets = targets.narrow(0, start, count);
            var logits = head.Logits(hidden.narrow(0, start, count));
            var normaliser = logits.logsumexp(1);
            logSumExp.narrow(0, start, count).copy_(normaliser);
            logProbs.narrow(0, start, count).copy_(logits.gather(1, chunkTargets.unsqueeze(1)).squeeze(1) - normaliser);
            if (gradient is null && entropy is null) continue;
            var logP = logits - normaliser.unsqueeze(1);
            var probabilities = logP.exp();
            entropy?.narrow(0, start, count).copy_(-(probabilities * logP).sum(1));
            if (gradient is null) continue;
            gradient.narrow(0, start, count).copy_(head.Weight.index_select(0, chunkTargets) - probabilities.mm(head.Weight));
        }
        return (logProbs, logSumExp, gradient);
    }
}

/// <summary>
/// The autograd function of <see cref="ChunkedLogProbs.Gather"/>. With p = softmax(logits) of a row and g the gradient of its
/// log-probability, d/dlogits = g·(onehot(target) - p); backward recomputes p a chunk at a time from the saved hidden states
/// and log-sum-exp, and sums the chunks' contributions to the head's weight and bias. A frozen head (LoRA, a frozen tied
/// embedding) needs only d/dhidden = g·(W[target] - pᵀW), linear in g: forward computes W[target] - pᵀW while it has p, and
/// backward scales it, with no recomputation (the head's matmuls are then as many as the plain path's). apply's arguments:
/// a <see cref="ChunkedForward"/> (rows per chunk, and where to write the rows' entropy), hidden [rows, hidden], weight
/// [vocab, hidden], targets [rows], then the bias [vocab] when the head has one.
/// </summary>
internal sealed class ChunkedLogProbsFunction : autograd.SingleTensorFunction<ChunkedLogProbsFunction>
{
    const int ChunkArg = 0, HiddenArg = 1, WeightArg = 2, TargetsArg = 3, BiasArg = 4;
    const string ChunkKey = "chunk", FrozenHeadKey = "frozen_head", ArgumentsKey = "arguments";

    public override string Name => nameof(ChunkedLogProbsFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (chunk, entropy) = (ChunkedForward)vars[ChunkArg];
        var hidden = (Tensor)vars[HiddenArg];
        var weight = (Tensor)vars[WeightArg];
        var targets = (Tensor)vars[TargetsArg];
        var bias = vars.Length > BiasArg ? (Tensor)vars[BiasArg] : null;
        bool frozenHead = !weight.requires_grad && bias is not { requires_grad: true };
        var (logProbs, logSumExp, hiddenGradient) = ChunkedLogProbs.Forward(hidden, new LmHead(weight, bias), targets, chunk, hiddenGradient: frozenHead, entropy);
        ctx.save_data(ChunkKey, chunk);
        ctx.save_data(FrozenHeadKey, frozenHead);
        ctx.save_data(ArgumentsKey, vars.Length);
        // Saved by the graph: the caller's dispose scopes end before backward runs.
        if (frozenHead) ctx.save_for_backward([hiddenGradient!]);
        else ctx.save_for_backward(bias is null ? [hidden, weight, targets, logSumExp] : [hidden, weight, targets, logSumExp, bias]);
        return logProbs;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var scope = NewDisposeScope();
        long chunk = (long)ctx.get_data(ChunkKey);
        var saved = ctx.get_saved_variables();
        if ((bool)ctx.get_data(FrozenHeadKey))
        {
            var onlyHidden = new Tensor[(int)ctx.get_data(ArgumentsKey)];
            onlyHidden[HiddenArg] = (saved[0] * gradOutput.unsqueeze(1)).MoveToOuterDisposeScope();
            return [.. onlyHidden];
        }
        Tensor hidden = saved[0], weight = saved[1], targets = saved[2], logSumExp = saved[3];
        Tensor? bias = saved.Count > 4 ? saved[4] : null;
        using var noGrad = no_grad();
        var gradHidden = hidden.requires_grad ? empty_like(hidden) : null;
        var gradWeight = weight.requires_grad ? zeros_like(weight) : null;
        var gradBias = bias is { requires_grad: true } ? zeros_like(bias) : null;
        long rows = hidden.shape[0];
        for (long start = 0; start < rows; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            long count = Math.Min(chunk, rows - start);
            var h = hidden.narrow(0, start, count);
            var g = gradOutput.narrow(0, start, count).unsqueeze(1);
            var probabilities = (nn.functional.linear(h, weight, bias) - logSumExp.narrow(0, start, count).unsqueeze(1)).exp();
            var gradLogits = -g * probabilities;
            gradLogits.scatter_add_(1, targets.narrow(0, start, count).unsqueeze(1), g);
            gradHidden?.narrow(0, start, count).copy_(gradLogits.mm(weight));
            gradWeight?.addmm_(gradLogits.t(), h, beta: 1, alpha: 1); // accumulated in place: no [vocab, hidden] temporary per chunk
            gradBias?.add_(gradLogits.sum(dim: 0));
        }
        // One entry per argument of apply: none for the chunk size and the targets.
        var perArgument = new Tensor[(int)ctx.get_data(ArgumentsKey)];
        perArgument[HiddenArg] = gradHidden?.MoveToOuterDisposeScope()!;
        perArgument[WeightArg] = gradWeight?.MoveToOuterDisposeScope()!;
        if (bias is not null) perArgument[BiasArg] = gradBias?.MoveToOuterDisposeScope()!;
        return [.. perArgument];
    }
}

/// <summary><see cref="ChunkedLogProbsFunction"/>'s first argument: rows per chunk, and the [rows] tensor forward writes the rows'
/// entropy to (none: not computed).</summary>
internal sealed record ChunkedForward(long Rows, Tensor? Entropy);
