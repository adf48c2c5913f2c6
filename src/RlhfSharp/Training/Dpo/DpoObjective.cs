using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Dpo;

/// <summary>
/// DPO and its variants (<see cref="DpoOptions.Loss"/>) on preference pairs: each micro-batch runs the chosen and the
/// rejected sequences of its pairs through the policy in one forward pass, sums the log-probabilities of each response's
/// tokens, and compares them with the reference model's (<see cref="DpoMath"/>). The reference is the starting policy
/// (the model; with LoRA the base with fresh adapters, which add exactly nothing, or base + the adapter the run
/// continues): its log-probabilities are computed once before the first step and kept in the run folder
/// (<see cref="ReferencePass"/>), so no second copy of the model is held and a resume does not compute them again.
/// The policy runs without dropout (as TRL's disable_dropout), so at step 0 it is the reference and the sigmoid loss is ln 2.
/// </summary>
public sealed class DpoObjective : ITrainingObjective<DpoPair>
{
    readonly CausalLanguageModel _model;
    readonly DpoOptions _options;

    /// <param name="model">The policy, without dropout (<see cref="Load"/>, or built from <see cref="ModelConfig.WithoutDropout"/>).</param>
    public DpoObjective(CausalLanguageModel model, DpoOptions options, ModelOrigin? origin = null)
    {
        if (model.Config.HasDropout)
            throw new ArgumentException("DPO's policy runs without dropout, so that it starts as the reference: build it from config.WithoutDropout() " +
                "or load it with CausalLanguageModel.FromPretrained(directory, withoutDropout: true)", nameof(model));
        (_model, _options) = (model, options);
        Trained = new(model, PeftTask.CausalLm, model.SavePretrained,
            directory => PretrainedWeights.Load(model, directory, DecoderTrunk.CheckpointPrefix(model.Config.Family), PretrainedWeights.HeadRules.CausalLm(model.Config)),
            origin);
    }

    /// <summary>The objective on the model in <paramref name="origin"/>, loaded without its dropout (the saved config keeps it).</summary>
    public static DpoObjective Load(ModelOrigin origin, DpoOptions options) =>
        new(CausalLanguageModel.FromPretrained(origin.Directory, withoutDropout: true), options, origin);

    public string Name => "dpo";
    public nn.Module Model => _model;
    public ModelConfig Config => _model.Config;

    /// <summary>A causal LM's checkpoint, or with LoRA a CAUSAL_LM adapter folder; the tokenizer files beside it.</summary>
    public TrainedModel Trained { get; }

    public int Length(DpoPair example) => Math.Max(example.Pair.Chosen.InputIds.Length, example.Pair.Rejected.InputIds.Length);

    /// <summary>The reference log-probabilities of every pair, from the starting model or, on resume, the run folder (nothing for simpo).</summary>
    public (IReadOnlyList<DpoPair> Train, IReadOnlyList<DpoPair> HeldOut) Start(IReadOnlyList<DpoPair> train, IReadOnlyList<DpoPair> heldOut, RunStart run)
    {
        if (!_options.UsesReference()) return (train, heldOut);
        int[] lengths = train.Select(Length).ToArray();
        var batches = BatchPlan.Epoch(lengths, run.Options.BatchSize, run.Options.Seed, 0);
        var (forTrain, forHeldOut) = ReferencePass.Run(_model, train.Select(p => p.Pair).ToList(), heldOut.Select(p => p.Pair).ToList(), batches, run);
        return (train.Select((p, i) => p with { Reference = forTrain[i] }).ToList(), heldOut.Select((p, i) => p with { Reference = forHeldOut[i] }).ToList());
    }

    public StepLoss Forward(IReadOnlyList<DpoPair> batch)
    {
        using var scope = NewDisposeScope();
        var (terms, policy, tokens) = Terms(batch);
        var loss = terms.Losses.mean();
        var metrics = DpoMath.Metrics(terms, policy);
        metrics["tokens"] = tokens;
        return new StepLoss(loss.MoveToOuterDisposeScope(), metrics);
    }

    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<DpoPair> examples, int batchSize)
    {
        using var scope = NewDisposeScope();
        var parts = examples.Chunk(batchSize).Select(batch => Terms(batch)).ToList();
        var terms = new DpoTerms(cat(parts.Select(p => p.Terms.Losses).ToList()), cat(parts.Select(p => p.Terms.ChosenRewards).ToList()),
            cat(parts.Select(p => p.Terms.RejectedRewards).ToList()));
        var policy = new PairLogps(cat(parts.Select(p => p.Policy.Chosen).ToList()), cat(parts.Select(p => p.Policy.Rejected).ToList()));
        return DpoMath.Metrics(terms, policy, "eval_");
    }

    /// <summary>The batch's loss terms, the policy's log-probabilities they came from, and the batch's response tokens.</summary>
    (DpoTerms Terms, PairLogps Policy, long Tokens) Terms(IReadOnlyList<DpoPair> batch)
    {
        var (sums, tokens) = ResponseLogps(_model, batch.Select(p => p.Pair).ToList());
        var policy = DpoMath.ForLoss(_options, sums, tokens);
        PairLogps? reference = null;
        if (_options.UsesReference())
        {
            var stored = batch.Select(p => p.Reference ?? throw new InvalidOperationException("the reference log-probabilities have not been computed: the training loop calls Start first")).ToList();
            reference = DpoMath.ForLoss(_options, new PairLogps(tensor(stored.Select(r => r.Chosen).ToArray()), tensor(stored.Select(r => r.Rejected).ToArray())), tokens);
        }
        long count = (long)(tokens.Chosen.sum() + tokens.Rejected.sum()).item<float>();
        return (DpoMath.Terms(_options, policy, reference), policy, count);
    }

    /// <summary>
    /// Summed log-probabilities of each pair's chosen and rejected response under <paramref name="model"/>, [pairs] each, from
    /// one forward pass over the chosen sequences followed by the rejected ones (right-padded), and the responses' token
    /// counts (float). A response's tokens are those from its sequence's PromptLength on (the EOS included); the first token of
    /// a sequence, which nothing predicts, is never one.
    /// </summary>
    internal static (PairLogps Sums, PairLogps Tokens) ResponseLogps(CausalLanguageModel model, IReadOnlyList<EncodedPreference> batch)
    {
        using var scope = NewDisposeScope();
        var rows = batch.Select(p => p.Chosen).Concat(batch.Select(p => p.Rejected)).ToList();
        var (ids, mask) = Padding.Right(rows.Select(r => (IReadOnlyList<int>)r.InputIds).ToList());
        var labels = Padding.RightLabels(rows.Select(ResponseLabels).ToList());
        // Only the response tokens are projected through the head, a chunk at a time; position t predicts token t + 1.
        var (tokenLogps, rowOf) = ChunkedLogProbs.Scored(model.Hidden(new DecoderInput(ids, mask)), model.Head, labels);
        var sums = zeros(rows.Count, dtype: tokenLogps.dtype).index_add(0, rowOf, tokenLogps, alpha: 1);
        var counts = labels.narrow(1, 1, labels.shape[1] - 1).ne(Losses.IgnoreIndex).sum(1).to(ScalarType.Float32).clamp_min(1);
        int pairs = batch.Count;
        return (new PairLogps(sums.narrow(0, 0, pairs).MoveToOuterDisposeScope(), sums.narrow(0, pairs, pairs).MoveToOuterDisposeScope()),
            new PairLogps(counts.narrow(0, 0, pairs).MoveToOuterDisposeScope(), counts.narrow(0, pairs, pairs).MoveToOuterDisposeScope()));
    }

    static IReadOnlyList<int> ResponseLabels(EncodedSequence sequence) =>
        sequence.InputIds.Select((id, i) => i >= sequence.PromptLength ? id : (int)Losses.IgnoreIndex).ToArray();
}
