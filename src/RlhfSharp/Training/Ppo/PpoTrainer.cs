using System.Diagnostics;
using System.Text.Json;
using RlhfSharp.Distributed;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Infrastructure;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>The outcome of a PPO run. <see cref="History"/> holds the whole run's rows (on rank 0, those before a resume read back from metrics.jsonl).</summary>
public sealed record PpoSummary(long Iterations, IReadOnlyList<IReadOnlyDictionary<string, double>> History, double? BestEvalReward);

/// <summary>
/// PPO (trlx-equivalent): each iteration rolls out a batch of prompts, turns it into KL-penalised advantages,
/// then takes ppo_epochs passes of clipped policy and value updates over mini-batches (gradient_accumulation
/// mini-batches to an optimizer step), and adapts the KL coefficient. Metrics go to metrics.jsonl and TensorBoard, the reward curve to reward_curve.png/.svg,
/// samples to samples.md; checkpoints hold the policy, value head, optimizer, KL coefficient, reward
/// statistics and position, so --resume continues exactly. The best policy by held-out reward is kept in best/.
/// <para>
/// Data parallel under <c>mpirun</c> (<paramref name="world"/>): rank r rolls out the prompt batch at global
/// position MicroBatches + r with its own sampling seed, so each iteration covers ranks x batch_size prompts;
/// score scaling, advantage whitening and the KL estimate use all ranks' statistics, gradients are averaged in
/// one all-reduce per optimizer step, and the logged metrics are the world's. Only rank 0 writes files.
/// </para>
/// </summary>
public sealed class PpoTrainer(
    PolicyWithValueHead policy, IReferenceModel reference, ITextTokenizer tokenizer, IRewardFunction reward,
    PpoOptions options, string outputDirectory, string? tokenizerDirectory = null, TextWriter? log = null, bool liveProgress = false,
    IDistributed? world = null)
{
    const string StateFile = "ppo_state.json";
    readonly IDistributed _world = world ?? SingleProcess.Instance;
    /// <summary>Only rank 0 talks.</summary>
    readonly TextWriter? _log = world is null || world.IsRoot ? log : null;
    long _completedIterations;

    /// <summary>Iterations done so far in the run (including those before a resume); safe to read from another thread.</summary>
    public long CompletedIterations => Volatile.Read(ref _completedIterations);

    public PpoSummary Run(IReadOnlyList<string> prompts, IReadOnlyList<string> evalPrompts, bool resume, long? stopAtStep = null)
    {
        options.Validate();
        if (prompts.Count == 0) throw new RlhfException("no prompts");
        long iterations = options.MaxSteps!.Value;
        LayerFreezing.FreezeBottom(policy.Policy, policy.Policy.Config, options.FreezeBottomLayers);
        bool root = _world.IsRoot;
        using var optimizer = new DataParallelOptimizer(policy, options, _world);
        var collector = new RolloutCollector(policy, reference, tokenizer, reward, options, _world);
        IKlController kl = options.TargetKl is double target ? new AdaptiveKlController(options.InitKlCoef, target, options.Horizon) : new FixedKlController(options.InitKlCoef);
        var checkpoints = new TrainingCheckpoints(outputDirectory);
        var state = new TrainerState { TotalSteps = iterations, Seed = options.Seed };
        if (resume && checkpoints.Latest is { } latest)
        {
            state = TrainingCheckpoints.Restore(latest, policy.Load, optimizer.LoadState);
            var saved = JsonSerializer.Deserialize<PpoState>(File.ReadAllText(Path.Combine(latest, StateFile)))!;
            kl.Restore(saved.Beta);
            collector.Scaler.Moments.Restore(saved.Moments);
            _log?.WriteLine(state.Step >= iterations
                ? $"the run in {outputDirectory} had already finished at iteration {state.Step}; nothing left to train"
                : $"resuming from {latest} at iteration {state.Step}");
        }
        Volatile.Write(ref _completedIterations, state.Step);
        ParameterSync.Broadcast(_world, policy.parameters());

        using var metrics = new MetricsWriter(outputDirectory, enabled: root);
        if (root) metrics.TruncateAfter(state.Step);
        using var progress = new TrainingProgress("ppo", iterations, state.Step, liveProgress && root ? null : _log ?? TextWriter.Null);
        var history = new List<IReadOnlyDictionary<string, double>>();
        if (root && state.Step > 0 && File.Exists(metrics.JsonlPath)) history.AddRange(MetricsWriter.ReadJsonl(metrics.JsonlPath).Select(r => r.Values));
        var lengths = prompts.Select(p => p.Length).ToArray();
        (int, IReadOnlyList<int[]>)? epochCache = null;
        double? bestEval = state.BestEvalLoss is double negated ? -negated : null;

        while (state.Step < iterations)
        {
            var times = new PhaseTimes();
            long iteration = state.Step;
            long position = state.MicroBatches + _world.Rank;
            int[] indices = BatchPlan.At(lengths, options.BatchSize, options.Seed, position, ref epochCache);
            // The ranks' update counts must match: an epoch's short last batch is topped up from its own start.
            if (_world.Size > 1 && indices.Length < options.BatchSize) indices = Enumerable.Range(0, options.BatchSize).Select(i => indices[i % indices.Length]).ToArray();
            var batchPrompts = indices.Select(i => prompts[i]).ToList();
            double beta = kl.Beta;
            using var rollout = collector.Collect(batchPrompts, (ulong)Seeds.Derive(options.Seed, position, 1), beta, times);

            var watch = Stopwatch.StartNew();
            double learningRate = options.LearningRate * LearningRateSchedule.Factor(iteration, options.WarmupSteps, iterations, options.MinLearningRateRatio);
            optimizer.SetLearningRate(learningRate);
            var trainStats = Optimize(rollout, optimizer, position);
            times.Training += watch.Elapsed.TotalSeconds;

            var (localKl, localK3) = PpoMath.KlEstimates(rollout.LogProbs, rollout.RefLogProbs, rollout.ResponseMask);
            var klMeans = DistributedMetrics.Mean(_world, new Dictionary<string, double> { ["kl"] = localKl, ["kl_k3"] = localK3 });
            double sequenceKl = klMeans["kl"], k3 = klMeans["kl_k3"];
            kl.Update(sequenceKl, rollout.Count * _world.Size);
            state = state with { Step = iteration + 1, MicroBatches = state.MicroBatches + _world.Size };
            Volatile.Write(ref _completedIterations, state.Step);

            var row = IterationMetrics(rollout, trainStats, sequenceKl, k3, beta, learningRate, times);
            if (!row.Values.All(double.IsFinite))
                throw new RlhfException($"non-finite metrics at iteration {state.Step} ({string.Join(", ", row.Where(m => !double.IsFinite(m.Value)).Select(m => m.Key))}); the last good checkpoint is kept in {checkpoints.Root}");
            if (evalPrompts.Count > 0 && (state.Step % options.EvalEvery == 0 || state.Step == iterations))
            {
                double evalReward = Evaluate(evalPrompts, collector);
                row["eval_reward_mean"] = evalReward;
                if (evalReward > (bestEval ?? double.NegativeInfinity))
                {
                    bestEval = evalReward;
                    state = state with { BestEvalLoss = -evalReward };
                    if (root) SaveReplacing(Path.Combine(outputDirectory, "best"), SaveModel);
                }
            }
            metrics.Log(state.Step, row);
            history.Add(row);
            bool stopping = state.Step == stopAtStep;
            bool saving = state.Step % options.SaveEvery == 0 || state.Step == iterations || stopping;
            bool sampling = state.Step % options.SamplesEvery == 0 || state.Step == 1;
            if (root && sampling) WriteSamples(rollout, state.Step);
            // The curve (PNG + SVG) is redrawn with the samples and at checkpoints, not every iteration.
            if (root && (sampling || saving)) Plots.TrainingCurvePlot.FromMetrics(outputDirectory);
            if (saving)
            {
                var ppoState = new PpoState(kl.Beta, collector.Scaler.Moments.State);
                var writeOptimizer = optimizer.StateWriter();
                if (root)
                    checkpoints.Save(dir =>
                    {
                        SaveModel(dir);
                        AtomicFile.WriteAllText(Path.Combine(dir, StateFile), JsonSerializer.Serialize(ppoState));
                    }, writeOptimizer, state);
            }
            progress.Report(state.Step, new Dictionary<string, double> { ["reward"] = row["reward_mean"], ["kl"] = sequenceKl, ["beta"] = beta });
            if (stopping) return Finish(optimizer, new PpoSummary(state.Step, history, bestEval));
        }
        if (root) SaveModel(outputDirectory);
        return Finish(optimizer, new PpoSummary(state.Step, history, bestEval));
    }

    PpoSummary Finish(DataParallelOptimizer optimizer, PpoSummary summary)
    {
        DistributedReport.Finish(_world, optimizer, policy.parameters(), options.ZeroStage, outputDirectory, _log);
        return summary;
    }

    void SaveModel(string directory)
    {
        policy.Save(directory);
        if (tokenizerDirectory is not null) PretrainedWeights.CopyTokenizerFiles(tokenizerDirectory, directory);
    }

    static void SaveReplacing(string directory, Action<string> save)
    {
        string temp = directory + $".{Guid.NewGuid():N}.tmp";
        save(temp);
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        Directory.Move(temp, directory);
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
        policy.train();
        for (int epoch = 0; epoch < options.PpoEpochs; epoch++)
        {
            int[] order = Enumerable.Range(0, rollout.Count).ToArray();
            new Random(Seeds.Derive(options.Seed, position, epoch, 2)).Shuffle(order);
            foreach (int[][] step in order.Chunk(miniBatch).Chunk(options.GradientAccumulation))
            {
                optimizer.ZeroGrad();
                foreach (int[] rows in step) Accumulate(rows, step.Length);
                optimizer.ReduceAndClip(options.MaxGradNorm);
                optimizer.Step();
            }
        }
        policy.eval();
        return sums.ToDictionary(p => p.Key, p => p.Value / miniBatches);

        // Adds one mini-batch's share of the step's mean gradient.
        void Accumulate(int[] rows, int miniBatchesInStep)
        {
            using var scope = NewDisposeScope();
            var index = tensor(rows.Select(r => (long)r).ToArray());
            Tensor Pick(Tensor t) => t.index_select(0, index);
            var mask = Pick(rollout.ResponseMask);
            var (logits, allValues) = policy.call(new DecoderInput(Pick(rollout.Ids), Pick(rollout.AttentionMask)));
            var responseLogits = ResponseTokens.Logits(logits, rollout.PromptColumns, rollout.ResponseColumns);
            var logProbs = ResponseTokens.LogProbs(responseLogits, Pick(rollout.Ids), rollout.PromptColumns);
            var values = ResponseTokens.Values(allValues, rollout.PromptColumns, rollout.ResponseColumns);
            var (policyLoss, clipFraction, approxKl) = PpoMath.PolicyLoss(logProbs, Pick(rollout.LogProbs), Pick(rollout.Advantages), mask, options.ClipRange);
            var (valueLoss, valueClipFraction) = PpoMath.ValueLoss(values, Pick(rollout.Values), Pick(rollout.Returns), mask, options.ClipRangeValue);
            var loss = policyLoss + options.ValueLossCoefficient * valueLoss;
            (loss / miniBatchesInStep).backward();
            using (no_grad()) Add("entropy", PpoMath.Entropy(responseLogits.detach(), mask).item<float>());
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
        var scores = AllScores(rollout.Scores);
        double mean = scores.Average();
        var local = DistributedMetrics.Mean(_world, new Dictionary<string, double>(train)
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
        return row;
    }

    /// <summary>Every rank's scores (the ranks' batches are the same size), rank by rank.</summary>
    IReadOnlyList<double> AllScores(IReadOnlyList<double> scores)
    {
        if (_world.Size == 1) return scores;
        using var all = zeros(scores.Count * _world.Size, ScalarType.Float64);
        using (var own = all.narrow(0, scores.Count * _world.Rank, scores.Count))
        using (var values = tensor(scores.ToArray())) own.copy_(values);
        _world.AllGather(all);
        return all.data<double>().ToArray();
    }

    /// <summary>Mean score of greedy responses to the held-out prompts.</summary>
    double Evaluate(IReadOnlyList<string> evalPrompts, RolloutCollector collector)
    {
        var prompts = evalPrompts.Take(options.EvalPromptCount).ToList();
        var generated = new Generation.TextGenerator(policy.Policy, tokenizer).Generate(collector.EncodePrompts(prompts), new Generation.SamplingOptions
        {
            Greedy = true, MaxNewTokens = options.Sampling.MaxNewTokens, StopSequences = options.Sampling.StopSequences,
        });
        return reward.Score(prompts, generated.Select(g => g.Text ?? "").ToList()).Average();
    }

    /// <summary>Appends a table of sample prompts, responses and scores to samples.md and prints it shortened.</summary>
    void WriteSamples(RolloutBatch rollout, long iteration)
    {
        int count = Math.Min(4, rollout.Count);
        var (prompts, responses, scores) = (rollout.Prompts.Take(count).ToList(), rollout.Responses.Take(count).ToList(), rollout.Scores.Take(count).ToList());
        File.AppendAllText(Path.Combine(outputDirectory, "samples.md"), PpoSamples.Markdown(prompts, responses, scores, iteration, int.MaxValue));
        _log?.Write(PpoSamples.Markdown(prompts, responses, scores, iteration, 60));
    }

    sealed record PpoState(double Beta, RunningMomentsState Moments);
}
