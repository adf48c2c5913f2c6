using System.Diagnostics;
using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>Wall-clock seconds of each phase of a PPO iteration (Reference: the no-grad passes over the sampled sequences: the
/// reference's, and the policy's only where the sampler's log-probs and values are not reused).</summary>
internal sealed class PhaseTimes
{
    public double Generation, Scoring, Reference, Training;
    public double Total => Generation + Scoring + Reference + Training;
}

/// <summary>
/// Makes experience (trlx's make_experience): sample responses from the policy, score them with the reward
/// function, compute the policy's and the frozen reference's log-probabilities and the value estimates, then
/// the KL-penalised per-token rewards, GAE advantages (whitened over the batch's response tokens) and returns.
/// Everything runs under no_grad. In a data-parallel run each rank collects its own rollouts; the score scaling
/// and the advantage whitening use the moments of all ranks' (all-reduced), as trlx does.
/// </summary>
internal sealed class RolloutCollector(
    PolicyWithValueHead policy, IReferenceModel reference, ITextTokenizer tokenizer, IRewardFunction reward, PpoOptions options,
    IDistributed? world = null)
{
    readonly ScoreScaler _scaler = new(options, world);
    readonly CompletionSampler _sampler = new(policy.Policy, tokenizer, options.Sampling, options.MaxLength);

    public ScoreScaler Scaler => _scaler;

    /// <summary>Rollouts of prompts without row fields.</summary>
    public RolloutBatch Collect(IReadOnlyList<string> prompts, ulong seed, double beta, PhaseTimes times) =>
        Collect(prompts.Select(p => new PromptRecord(p, null)).ToList(), seed, beta, times);

    /// <summary>Rollouts of prompt rows: the reward sees each row's fields (a reference answer, ...) beside the response.</summary>
    public RolloutBatch Collect(IReadOnlyList<PromptRecord> records, ulong seed, double beta, PhaseTimes times)
    {
        using var noGrad = no_grad();
        var watch = Stopwatch.StartNew();
        var prompts = records.Select(r => r.Text).ToList();
        var promptIds = EncodePrompts(prompts);
        // The sampler has already computed, at every response position, the policy's log-probability of the token it drew and
        // the final hidden state the value head reads: keep the step's values rather than run the policy again.
        bool reuse = !options.RecomputeRolloutPasses;
        var stepValues = new List<float[]>();
        Action<Tensor>? valuesOfStep = reuse && policy.ValuesFromPolicyHidden
            ? hidden => stepValues.Add(policy.ValueHead.call(hidden).data<float>().ToArray())
            : null;
        var sampled = _sampler.Sample(promptIds, seed, nextTokenHidden: valuesOfStep);
        var responseIds = sampled.Select(s => s.Ids).ToList();
        // The reward scores the text of exactly the ids trained on, so score and trained sequence agree.
        var responses = sampled.Select(s => s.Text).ToList();
        times.Generation += watch.Elapsed.TotalSeconds;

        watch.Restart();
        var samples = records.Select((r, i) => new RewardSample(r.Text, responses[i], r.Fields)).ToList();
        // A set's functions are kept apart as well, for their own means in the metrics.
        var breakdown = reward is RewardSet set ? set.ScoreEach(samples) : null;
        var scores = breakdown?.Total ?? reward.Score(samples);
        times.Scoring += watch.Elapsed.TotalSeconds;

        using var scope = NewDisposeScope();
        var (ids, attention, promptColumns, responseMask) = _sampler.Layout(promptIds, responseIds);
        long responseColumns = responseMask.shape[1];
        watch.Restart();
        policy.eval();
        Tensor logProbs, values;
        if (reuse)
        {
            logProbs = ResponseTokens.FromRows(sampled.Select(s => s.LogProbs).ToList(), responseColumns) * responseMask;
            values = (valuesOfStep is not null
                ? ResponseTokens.FromRows(sampled.Select((s, row) => stepValues.Take(s.Ids.Count).Select(step => step[row]).ToList()).ToList(), responseColumns)
                : ResponseTokens.Values(policy.Values(new DecoderInput(ids, attention)), promptColumns, responseColumns)) * responseMask;
        }
        else
        {
            var (hidden, allValues) = policy.HiddenAndValues(new DecoderInput(ids, attention));
            logProbs = ChunkedLogProbs.Response(hidden, policy.Policy.Head, ids, promptColumns, responseColumns) * responseMask;
            values = ResponseTokens.Values(allValues, promptColumns, responseColumns) * responseMask;
        }
        // A hydra reference runs the policy's frozen bottom: without dropout, its output serves the reference and every training pass.
        var config = policy.Policy.Config;
        var hydra = reuse && reference is SharedBottomReference shared && config is { EmbeddingDropout: 0, AttentionDropout: 0, ResidualDropout: 0 } ? shared : null;
        var bottom = hydra?.Bottom(new DecoderInput(ids, attention));
        var refHidden = hydra is null ? reference.Hidden(new DecoderInput(ids, attention)) : hydra.HiddenAbove(bottom!, new DecoderInput(ids, attention));
        var refLogProbs = ChunkedLogProbs.Response(refHidden, reference.Head, ids, promptColumns, responseColumns) * responseMask;
        var logRatio = PpoMath.LogRatio(logProbs, refLogProbs, responseMask);
        times.Reference += watch.Elapsed.TotalSeconds;

        var scaled = tensor(_scaler.Scale(scores).Select(s => (float)s).ToArray());
        var rewards = PpoMath.KlPenalizedRewards(scaled, logRatio, responseMask, beta);
        var (advantages, returns) = PpoMath.AdvantagesAndReturns(rewards, values, responseMask, options.Gamma, options.Lambda);
        // One process keeps the float32 whitening of PpoMath, so seeded runs keep their exact figures.
        if (world is { Size: > 1 })
        {
            var (mean, variance) = WorldStatistics.MaskedMoments(world, advantages, responseMask);
            advantages = PpoMath.Whiten(advantages, responseMask, mean, variance);
        }
        else advantages = PpoMath.Whiten(advantages, responseMask);

        return new RolloutBatch
        {
            Prompts = prompts, Responses = responses, Scores = scores, ScoresByFunction = breakdown?.ByFunction ?? new Dictionary<string, IReadOnlyList<double>>(),
            PromptColumns = promptColumns,
            Ids = ids.MoveToOuterDisposeScope(), AttentionMask = attention.MoveToOuterDisposeScope(),
            ResponseMask = responseMask.MoveToOuterDisposeScope(), LogProbs = logProbs.MoveToOuterDisposeScope(),
            LogRatio = logRatio.MoveToOuterDisposeScope(), Values = values.MoveToOuterDisposeScope(),
            Rewards = rewards.MoveToOuterDisposeScope(), Advantages = advantages.MoveToOuterDisposeScope(),
            Returns = returns.MoveToOuterDisposeScope(),
            FrozenBottom = bottom?.MoveToOuterDisposeScope(), FrozenBottomLayers = hydra?.SharedLayers ?? 0,
        };
    }

    /// <inheritdoc cref="CompletionSampler.EncodePrompts"/>
    public IReadOnlyList<IReadOnlyList<int>> EncodePrompts(IReadOnlyList<string> prompts) => _sampler.EncodePrompts(prompts);

    /// <inheritdoc cref="CompletionSampler.Greedy"/>
    public IReadOnlyList<string> Greedy(IReadOnlyList<string> prompts) => _sampler.Greedy(prompts);
}
