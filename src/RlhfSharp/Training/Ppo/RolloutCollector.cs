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

/// <summary>Wall-clock seconds of each phase of a PPO iteration (Reference: the no-grad log-prob and value
/// passes of the policy and the reference over the sampled sequences).</summary>
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
    /// <summary>Prompt ids by prompt text, cut to the budget (see <see cref="EncodePrompts"/>).</summary>
    readonly Dictionary<string, IReadOnlyList<int>> _encoded = [];

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
        var generated = new TextGenerator(policy.Policy, tokenizer).Generate(promptIds, options.Sampling with { Seed = seed });
        var responseIds = generated.Select(ResponseIds).ToList();
        // The reward scores the text of exactly the ids trained on, so score and trained sequence agree.
        var responses = generated.Select((g, i) => ResponseText(g, responseIds[i])).ToList();
        times.Generation += watch.Elapsed.TotalSeconds;

        watch.Restart();
        var samples = records.Select((r, i) => new RewardSample(r.Text, responses[i], r.Fields)).ToList();
        // A set's functions are kept apart as well, for their own means in the metrics.
        var breakdown = reward is RewardSet set ? set.ScoreEach(samples) : null;
        var scores = breakdown?.Total ?? reward.Score(samples);
        times.Scoring += watch.Elapsed.TotalSeconds;

        using var scope = NewDisposeScope();
        var (ids, attention, promptColumns, responseMask) = Layout(promptIds, responseIds);
        long responseColumns = responseMask.shape[1];
        watch.Restart();
        policy.eval();
        var (logits, allValues) = policy.call(new DecoderInput(ids, attention));
        var responseLogits = ResponseTokens.Logits(logits, promptColumns, responseColumns);
        var logProbs = ResponseTokens.LogProbs(responseLogits, ids, promptColumns) * responseMask;
        var values = ResponseTokens.Values(allValues, promptColumns, responseColumns) * responseMask;
        var refLogits = ResponseTokens.Logits(reference.Logits(new DecoderInput(ids, attention)), promptColumns, responseColumns);
        var refLogProbs = ResponseTokens.LogProbs(refLogits, ids, promptColumns) * responseMask;
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
        };
    }

    /// <summary>
    /// The response as trained on: the ids the policy sampled (decoding and encoding again is not the identity, and would
    /// train on sequences never sampled), cut before the token in which a stop sequence begins
    /// (<see cref="TextGenerator.TokensBeforeStopSequence"/>), nothing appended: EOS is there only where it was sampled.
    /// At most max_new_tokens ids. A response keeps at least its first token, which carries the score.
    /// </summary>
    IReadOnlyList<int> ResponseIds(GeneratedSequence sequence)
    {
        int keep = sequence.FinishReason == FinishReason.StopSequence
            ? TextGenerator.TokensBeforeStopSequence(sequence.TokenIds, tokenizer, options.Sampling.StopSequences)
            : sequence.TokenIds.Count;
        return sequence.TokenIds.Take(Math.Max(1, keep)).ToList();
    }

    /// <summary>The text of the trained ids, without a sampled EOS: the generator's own text unless a stop sequence cut the ids.</summary>
    string ResponseText(GeneratedSequence sequence, IReadOnlyList<int> ids) =>
        sequence.FinishReason == FinishReason.StopSequence ? tokenizer.Decode(ids) : sequence.Text!;

    /// <summary>
    /// Prompt ids cut from the left to max_length, and to what the model's positions leave after
    /// max_new_tokens (<see cref="PromptFit"/>), so prompt + response always fits. Each prompt is encoded once per run:
    /// every epoch draws it again and every evaluation scores the same held-out prompts.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<int>> EncodePrompts(IReadOnlyList<string> prompts)
    {
        int budget = options.PromptBudget(ContextWindow.Of(policy.Policy.Config));
        return prompts.Select(p =>
        {
            if (!_encoded.TryGetValue(p, out var ids)) _encoded[p] = ids = PromptFit.CutLeft(tokenizer.Encode(p), budget);
            return ids;
        }).ToList();
    }

    (Tensor Ids, Tensor Attention, long PromptColumns, Tensor ResponseMask) Layout(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<IReadOnlyList<int>> responses)
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
        return (tensor(ids).view(batch, width), tensor(attention).view(batch, width), promptColumns,
            tensor(responseMask).view(batch, responseColumns));
    }
}
