using RlhfSharp.Distributed;
using RlhfSharp.Training.Infrastructure;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>The outcome of a run: where it ended and its last metrics.</summary>
public sealed record TrainingSummary(long Steps, IReadOnlyDictionary<string, double> LastTrainMetrics, IReadOnlyDictionary<string, double> LastEvalMetrics);

/// <summary>
/// The loop every trainer shares: deterministic batches, gradient accumulation, clipping, warmup + cosine
/// schedule, AdamW, periodic held-out evaluation, metrics (TensorBoard + metrics.jsonl), checkpoints and
/// exact resume. Dropout's random stream is reseeded from (seed, micro-batch) each micro-batch, so a
/// resumed run draws the same masks as an uninterrupted one without saving generator state.
/// Messages and plain progress lines go to <c>log</c>; <c>liveProgress</c> shows a live bar on the console instead.
/// <para>
/// Data parallel under <c>mpirun</c> (<paramref name="world"/>): the micro-batches of a step are the global
/// positions MicroBatches + micro x ranks + rank, so the ranks' shards are disjoint, each step sees the same
/// examples as one process with gradient_accumulation x ranks, and a run resumes on any number of ranks.
/// Parameters are broadcast from rank 0 at the start, gradients averaged in one all-reduce per step, metrics
/// averaged over ranks before logging, except counts such as <c>tokens</c>, which are the world's total per optimizer
/// step (see <see cref="StepTotals"/>); only rank 0 writes checkpoints, metrics and the final model. Held-out
/// evaluation is not split: every rank scores the whole held-out set (identical weights, identical results).
/// </para>
/// </summary>
public sealed class TrainingLoop<TExample>(ITrainingObjective<TExample> objective, SupervisedTrainingOptions options, string outputDirectory,
    TextWriter? log = null, bool liveProgress = false, IDistributed? world = null)
{
    readonly IDistributed _world = world ?? SingleProcess.Instance;
    /// <summary>Only rank 0 talks.</summary>
    readonly TextWriter? _log = world is null || world.IsRoot ? log : null;
    long _completedSteps;

    /// <summary>
    /// Metrics an objective reports per micro-batch that are logged as totals per optimizer step over all micro-batches
    /// and ranks (the mean over the steps since the last log line): <c>tokens</c>, the response tokens a step trained on.
    /// </summary>
    public static readonly IReadOnlyList<string> StepTotals = ["tokens"];

    /// <summary>Optimizer steps done so far in the run (including those before a resume); safe to read from another thread.</summary>
    public long CompletedSteps => Volatile.Read(ref _completedSteps);

    /// <param name="stopAtStep">Stop after this step with a checkpoint, as an interrupted run would (the
    /// schedule still spans the whole run); the final model is then not written.</param>
    public TrainingSummary Run(IReadOnlyList<TExample> train, IReadOnlyList<TExample> heldOut, bool resume, long? stopAtStep = null)
    {
        options.Validate();
        if (train.Count == 0) throw new RlhfException("no training examples");
        var lengths = train.Select(objective.Length).ToArray();
        long microBatchesPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        long totalSteps = options.MaxSteps ?? Math.Max(1, (long)Math.Ceiling(options.Epochs * microBatchesPerEpoch / options.GradientAccumulation));

        var model = objective.Model;
        bool root = _world.IsRoot;
        long frozen = LayerFreezing.FreezeBottom(model, objective.Config, options.FreezeBottomLayers);
        if (frozen > 0) _log?.WriteLine($"froze {frozen:N0} parameters (embeddings and the bottom {options.FreezeBottomLayers} layers)");
        using var optimizer = new DataParallelOptimizer(model, options, _world);
        var checkpoints = new TrainingCheckpoints(outputDirectory);
        var state = new TrainerState { TotalSteps = totalSteps, Seed = options.Seed };
        if (resume && checkpoints.Latest is { } latest)
        {
            state = TrainingCheckpoints.Restore(latest, objective.LoadCheckpointWeights, optimizer.LoadState);
            _log?.WriteLine(state.Step >= totalSteps
                ? $"the run in {outputDirectory} had already finished at step {state.Step}; nothing left to train"
                : $"resuming from {latest} at step {state.Step}");
        }
        Volatile.Write(ref _completedSteps, state.Step);
        ParameterSync.Broadcast(_world, model.parameters());
        using var metrics = new MetricsWriter(outputDirectory, enabled: root);
        if (root) metrics.TruncateAfter(state.Step);
        // The summary covers the whole run: after a resume, the last logged metrics are those before the interruption.
        var (lastTrain, lastEval) = root && state.Step > 0 ? LastLogged(metrics.JsonlPath) : (new Dictionary<string, double>(), new Dictionary<string, double>());
        using var progress = new TrainingProgress(objective.Name, totalSteps, state.Step, liveProgress && root ? null : _log ?? TextWriter.Null);

        (int, IReadOnlyList<int[]>)? epochCache = null;
        var window = new MetricWindow();
        model.train();
        while (state.Step < totalSteps)
        {
            double learningRate = options.LearningRate * LearningRateSchedule.Factor(state.Step, options.WarmupSteps, totalSteps, options.MinLearningRateRatio);
            optimizer.SetLearningRate(learningRate);
            optimizer.ZeroGrad();
            for (int micro = 0; micro < options.GradientAccumulation; micro++)
            {
                using var scope = NewDisposeScope();
                long position = state.MicroBatches + (long)micro * _world.Size + _world.Rank;
                manual_seed(Seeds.Derive(options.Seed, position));
                int[] indices = BatchPlan.At(lengths, options.BatchSize, options.Seed, position, ref epochCache);
                var step = objective.Forward(indices.Select(i => train[i]).ToList());
                (step.Loss / options.GradientAccumulation).backward();
                window.Add(step.Metrics);
            }
            window.CompleteStep();
            state = state with { MicroBatches = state.MicroBatches + (long)options.GradientAccumulation * _world.Size };
            // Without clipping (max_grad_norm 0) an infinite limit still measures the logged norm and scales by exactly 1.
            double gradNorm = optimizer.ReduceAndClip(options.MaxGradNorm > 0 ? options.MaxGradNorm : double.PositiveInfinity);
            optimizer.Step();
            state = state with { Step = state.Step + 1 };
            Volatile.Write(ref _completedSteps, state.Step);

            var current = DistributedMetrics.Mean(_world, window.Mean(), [.. StepTotals]);
            if (!double.IsFinite(current.GetValueOrDefault("loss")))
                throw new RlhfException($"loss became {current["loss"]} at step {state.Step}; the last good checkpoint is kept in {checkpoints.Root}");
            if (state.Step % options.LogEvery == 0 || state.Step == totalSteps)
            {
                lastTrain = new Dictionary<string, double>(current) { ["learning_rate"] = learningRate, ["grad_norm"] = gradNorm };
                metrics.Log(state.Step, lastTrain);
                window = new MetricWindow();
            }
            if (heldOut.Count > 0 && (state.Step % options.EvalEvery == 0 || state.Step == totalSteps))
            {
                lastEval = Evaluate(heldOut);
                metrics.Log(state.Step, lastEval);
                if (lastEval.TryGetValue("eval_loss", out double evalLoss) && evalLoss < (state.BestEvalLoss ?? double.MaxValue))
                    state = state with { BestEvalLoss = evalLoss };
            }
            bool stopping = state.Step == stopAtStep;
            if (state.Step % options.SaveEvery == 0 || state.Step == totalSteps || stopping)
            {
                var writeOptimizer = optimizer.StateWriter();
                if (root) checkpoints.Save(objective.SavePretrained, writeOptimizer, state);
            }
            progress.Report(state.Step, current);
            if (stopping) return Finish(optimizer, lastTrain, lastEval, state.Step, _log);
        }
        model.eval();
        if (root) objective.SavePretrained(outputDirectory);
        return Finish(optimizer, lastTrain, lastEval, state.Step, _log);
    }

    TrainingSummary Finish(DataParallelOptimizer optimizer, IReadOnlyDictionary<string, double> lastTrain, IReadOnlyDictionary<string, double> lastEval,
        long steps, TextWriter? messages)
    {
        DistributedReport.Finish(_world, optimizer, objective.Model.parameters(), options.ZeroStage, outputDirectory, messages);
        return new TrainingSummary(steps, lastTrain, lastEval);
    }

    /// <summary>The last training row and the last evaluation row (all of its names eval_*) of a metrics.jsonl.</summary>
    static (IReadOnlyDictionary<string, double> Train, IReadOnlyDictionary<string, double> Eval) LastLogged(string metricsPath)
    {
        var rows = File.Exists(metricsPath) ? MetricsWriter.ReadJsonl(metricsPath) : [];
        static bool IsEval(MetricsRow row) => row.Values.Keys.All(name => name.StartsWith("eval_", StringComparison.Ordinal));
        return (rows.LastOrDefault(r => !IsEval(r))?.Values ?? new Dictionary<string, double>(),
                rows.LastOrDefault(r => r.Values.Count > 0 && IsEval(r))?.Values ?? new Dictionary<string, double>());
    }

    IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<TExample> heldOut)
    {
        objective.Model.eval();
        try
        {
            using var noGrad = no_grad();
            return objective.Evaluate(heldOut, options.BatchSize);
        }
        finally
        {
            objective.Model.train();
        }
    }

    /// <summary>
    /// Averages the metrics of the micro-batches since the last log line; <see cref="StepTotals"/> are summed over the
    /// micro-batches and averaged over the steps instead.
    /// </summary>
    sealed class MetricWindow
    {
        readonly Dictionary<string, (double Sum, int Count)> _sums = [];
        int _steps;

        public void CompleteStep() => _steps++;

        public void Add(IReadOnlyDictionary<string, double> metrics)
        {
            foreach (var (name, value) in metrics)
                _sums[name] = _sums.TryGetValue(name, out var s) ? (s.Sum + value, s.Count + 1) : (value, 1);
        }

        public Dictionary<string, double> Mean() =>
            _sums.ToDictionary(p => p.Key, p => p.Value.Sum / (StepTotals.Contains(p.Key) ? Math.Max(1, _steps) : p.Value.Count));
    }
}
