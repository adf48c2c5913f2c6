using System.Diagnostics;
using System.Text.Json;
using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Training.Metrics;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// PPO's iteration as <see cref="TrainingRun"/> steps it: roll out a batch, optimise on it, adapt the KL coefficient;
/// evaluation by the greedy responses' reward (the best policy kept in best/); checkpoints add the KL coefficient and
/// the reward statistics.
/// </summary>
internal sealed class PpoIterations(PpoModels models, PpoOptions options, string outputDirectory, IProgressSink progress, IDistributed world,
    IReadOnlyList<PromptRecord> prompts, IReadOnlyList<PromptRecord> evalPrompts) : ITrainerSteps
{
    const string StateFile = "ppo_state.json";
    readonly PolicyWithValueHead _policy = models.Policy;
    readonly RolloutCollector _collector = new(models.Policy, models.Reference, models.Tokenizer, models.Reward, options, world);
    readonly IKlController _kl = options.TargetKl is double target
        ? new AdaptiveKlController(options.InitKlCoef, target, options.Horizon)
        : new FixedKlController(options.InitKlCoef);
    readonly int[] _lengths = prompts.Select(p => p.Text.Length).ToArray();
    (int, IReadOnlyList<int[]>)? _epochCache;
    /// <summary>The first prompts, responses and scores of the last rollout, for samples.md.</summary>
    (IReadOnlyList<string> Prompts, IReadOnlyList<string> Responses, IReadOnlyList<double> Scores) _samples = ([], [], []);

    public string Name => "ppo";
    public string StepUnit => "iteration";
    public nn.Module Model => _policy;
    public bool LogsEvaluationWithStep => true;

    /// <summary>
    /// The best held-out reward so far. Checkpoints written before trainer_state.json had best_eval_reward kept it negated
    /// as best_eval_loss (no PPO run has an evaluation loss), so an old checkpoint resumes with its best.
    /// </summary>
    public static double? BestEvalReward(TrainerState state) => state.BestEvalReward ?? -state.BestEvalLoss;

    public void Load(string checkpoint)
    {
        _policy.Load(checkpoint);
        var saved = JsonSerializer.Deserialize<PpoState>(File.ReadAllText(Path.Combine(checkpoint, StateFile)))!;
        _kl.Restore(saved.Beta);
        _collector.Scaler.Moments.Restore(saved.Moments);
    }

    public void SaveCheckpointState(string directory) =>
        AtomicFile.WriteAllText(Path.Combine(directory, StateFile), JsonSerializer.Serialize(new PpoState(_kl.Beta, _collector.Scaler.Moments.State)));

    public void SaveModel(string directory)
    {
        _policy.Save(directory);
        if (models.TokenizerDirectory is { } tokenizerDirectory) PretrainedWeights.CopyTokenizerFiles(tokenizerDirectory, directory);
    }

    public StepOutcome Step(StepContext step)
    {
        var times = new PhaseTimes();
        long position = step.State.MicroBatches + world.Rank;
        int[] indices = BatchPlan.At(_lengths, options.BatchSize, options.Seed, position, ref _epochCache);
        // The ranks' update counts must match: an epoch's short last batch is topped up from its own start.
        if (world.Size > 1 && indices.Length < options.BatchSize) indices = Enumerable.Range(0, options.BatchSize).Select(i => indices[i % indices.Length]).ToArray();
        var batchPrompts = indices.Select(i => prompts[i]).ToList();
        double beta = _kl.Beta;
        using var rollout = _collector.Collect(batchPrompts, (ulong)Seeds.Derive(options.Seed, position, 1), beta, times);

        var watch = Stopwatch.StartNew();
        var trainStats = Optimize(rollout, step.Optimizer, position);
        times.Training += watch.Elapsed.TotalSeconds;

        var (localKl, localK3) = PpoMath.KlEstimates(rollout.LogRatio, rollout.ResponseMask);
        var klMeans = WorldStatistics.Mean(world, new Dictionary<string, double> { ["kl"] = localKl, ["kl_k3"] = localK3 });
        double sequenceKl = klMeans["kl"], k3 = klMeans["kl_k3"];
        _kl.Update(sequenceKl, rollout.Count * world.Size);

        int count = Math.Min(4, rollout.Count);
        _samples = (rollout.Prompts.Take(count).ToList(), rollout.Responses.Take(count).ToList(), rollout.Scores.Take(count).ToList());
        var row = IterationMetrics(rollout, trainStats, sequenceKl, k3, beta, step.LearningRate, times);
        return new StepOutcome(world.Size, row, row, new Dictionary<string, double> { ["reward"] = row["reward_mean"], ["kl"] = sequenceKl, ["beta"] = beta });
    }

    public EvaluationOutcome? Evaluate(TrainerState state)
    {
        if (evalPrompts.Count == 0) return null;
        double evalReward = EvaluationReward();
        double? best = BestEvalReward(state);
        if (evalReward > (best ?? double.NegativeInfinity))
        {
            best = evalReward;
            if (world.IsRoot) AtomicFile.ReplaceDirectory(Path.Combine(outputDirectory, "best"), SaveModel);
        }
        return new EvaluationOutcome(new Dictionary<string, double> { ["eval_reward_mean"] = evalReward }, state with { BestEvalReward = best, BestEvalLoss = null });
    }

    public void AfterStep(TrainerState state, bool checkpointing)
    {
        if (!world.IsRoot) return;
        bool sampling = state.Step % options.SamplesEvery == 0 || state.Step == 1;
        if (sampling) WriteSamples(state.Step);
        // The curve (PNG + SVG) is redrawn with the samples and at checkpoints, not every iteration.
        if (sampling || checkpointing) Plots.TrainingCurvePlot.FromMetrics(outputDirectory);
    }

    /// <summary>
    /// ppo_epochs passes of clipped policy + value updates over shuffled mini-batches of the rollout; the gradients
    /// of gradient_accumulation consecutive mini-batches are averaged into one optimizer step (a pass's last step
    /// may have fewer).
    /// </summary>
    Dictionary<string, double> Optimize(RolloutBatch rollout, DataParallelOptimizer optimizer, long position)
    {
        var sums = new Dictionary<string, double>();
        int miniBatches = 0;
        int miniBatch = options.MiniBatchSize > 0 ? Math.Min(options.MiniBatchSize, rollout.Count) : rollout.Count;
        _policy.train();
        for (int epoch = 0; epoch < options.PpoEpochs; epoch++)
        {
            int[] order = Enumerable.Range(0, rollout.Count).ToArray();
            new Random(Seeds.Derive(options.Seed, position, epoch, 2)).Shuffle(order);
            foreach (int[][] step in order.Chunk(miniBatch).Chunk(options.GradientAccumulation))
            {
                optimizer.ZeroGrad();
                for (int i = 0; i < step.Length; i++) Accumulate(step[i], step.Length, lastInStep: i == step.Length - 1);
                optimizer.ReduceAndClip(options.MaxGradNorm);
                optimizer.Step();
            }
        }
        _policy.eval();
        return sums.ToDictionary(p => p.Key, p => p.Value / miniBatches);

        // Adds one mini-batch's share of the step's mean gradient.
        void Accumulate(int[] rows, int miniBatchesInStep, bool lastInStep)
        {
            using var scope = NewDisposeScope();
            var index = tensor(rows.Select(r => (long)r).ToArray());
            Tensor Pick(Tensor t) => t.index_select(0, index);
            var mask = Pick(rollout.ResponseMask);
            var ids = Pick(rollout.Ids);
            var input = new DecoderInput(ids, Pick(rollout.AttentionMask));
            var (hidden, allValues) = rollout.FrozenBottom is { } bottom
                ? _policy.HiddenAndValuesAbove(Pick(bottom), rollout.FrozenBottomLayers, input)
                : _policy.HiddenAndValues(input);
            // The entropy (logged) comes from the same chunks of logits as the log-probabilities.
            var entropy = empty(rows.Length, rollout.ResponseColumns);
            var logProbs = ChunkedLogProbs.Response(hidden, _policy.Policy.Head, ids, rollout.PromptColumns, rollout.ResponseColumns, entropy: entropy);
            var values = ResponseTokens.Values(allValues, rollout.PromptColumns, rollout.ResponseColumns);
            var (policyLoss, clipFraction, approxKl) = PpoMath.PolicyLoss(logProbs, Pick(rollout.LogProbs), Pick(rollout.Advantages), mask, options.ClipRange);
            var (valueLoss, valueClipFraction) = PpoMath.ValueLoss(values, Pick(rollout.Values), Pick(rollout.Returns), mask, options.ClipRangeValue);
            var loss = policyLoss + options.ValueLossCoefficient * valueLoss;
            optimizer.Backward(loss / miniBatchesInStep, lastInStep);
            Add("entropy", PpoMath.MaskedMean(entropy, mask).item<float>());
            Add("policy_loss", policyLoss.item<float>());
            Add("value_loss", valueLoss.item<float>());
            Add("clip_fraction", clipFraction);
            Add("value_clip_fraction", valueClipFraction);
            Add("approx_kl", approxKl);
            miniBatches++;
        }

        void Add(string name, double value) => sums[name] = sums.GetValueOrDefault(name) + value;
    }

    Dictionary<string, double> IterationMetrics(RolloutBatch rollout, Dictionary<string, double> train, double sequenceKl, double k3,
        double beta, double learningRate, PhaseTimes times)
    {
        var scores = WorldStatistics.Gather(world, rollout.Scores);
        double mean = scores.Average();
        var local = WorldStatistics.Mean(world, new Dictionary<string, double>(train)
        {
            ["response_length"] = rollout.ResponseMask.sum().item<float>() / rollout.Count,
            ["time_generation"] = times.Generation / times.Total,
            ["time_scoring"] = times.Scoring / times.Total,
            ["time_reference"] = times.Reference / times.Total,
            ["time_training"] = times.Training / times.Total,
            ["seconds"] = times.Total,
            ["tokens_per_s"] = rollout.ResponseMask.sum().item<float>() / times.Total,
        }, summed: "tokens_per_s");
        var row = new Dictionary<string, double>(local)
        {
            ["rollouts"] = scores.Count,
            ["reward_mean"] = mean,
            ["reward_std"] = Math.Sqrt(scores.Sum(s => (s - mean) * (s - mean)) / Math.Max(1, scores.Count - 1)),
            ["reward_min"] = scores.Min(),
            ["reward_max"] = scores.Max(),
            ["kl"] = sequenceKl,
            ["kl_k3"] = k3,
            ["beta"] = beta,
            ["learning_rate"] = learningRate,
        };
        // With several reward functions, each one's mean (as GRPO logs them); one function's mean is reward_mean itself.
        if (rollout.ScoresByFunction.Count > 1)
            foreach (var (name, functionMean) in WorldStatistics.Mean(world, rollout.ScoresByFunction.ToDictionary(f => $"rewards/{f.Key}/mean", f => f.Value.Average())))
                row[name] = functionMean;
        return row;
    }

    /// <summary>Mean score of greedy responses to the held-out prompts.</summary>
    double EvaluationReward()
    {
        var heldOut = evalPrompts.Take(options.EvalPromptCount).ToList();
        var completions = _collector.Greedy(heldOut.Select(p => p.Text).ToList());
        return models.Reward.Score(heldOut.Select((p, i) => new RewardSample(p.Text, completions[i], p.Fields)).ToList()).Average();
    }

    /// <summary>Appends a table of the last rollout's first prompts, responses and scores to samples.md and prints it shortened.</summary>
    void WriteSamples(long iteration)
    {
        var (samplePrompts, responses, scores) = _samples;
        File.AppendAllText(Path.Combine(outputDirectory, "samples.md"), PpoSamples.Markdown(samplePrompts, responses, scores, iteration, int.MaxValue));
        progress.Log.Write(PpoSamples.Markdown(samplePrompts, responses, scores, iteration, 60));
    }

    sealed record PpoState(double Beta, RunningMomentsState Moments);
}
