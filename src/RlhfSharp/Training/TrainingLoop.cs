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
/// </summary>
public sealed class TrainingLoop<TExample>(ITrainingObjective<TExample> objective, TrainingOptions options, string outputDirectory,
    TextWriter? log = null, bool liveProgress = false)
{
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
        long frozen = LayerFreezing.FreezeBottom(model, objective.Config, options.FreezeBottomLayers);
        if (frozen > 0) log?.WriteLine($"froze {frozen:N0} parameters (embeddings and the bottom {options.FreezeBottomLayers} layers)");
        using var optimizer = OptimizerFactory.AdamW(model, options);
        var checkpoints = new TrainingCheckpoints(outputDirectory);
        var state = new TrainerState { TotalSteps = totalSteps, Seed = options.Seed };
        if (resume && checkpoints.Latest is { } latest)
        {
            state = TrainingCheckpoints.Restore(latest, objective, optimizer);
            log?.WriteLine($"resuming from {latest} at step {state.Step}");
        }
        using var metrics = new MetricsWriter(outputDirectory);
        metrics.TruncateAfter(state.Step);
        using var progress = new TrainingProgress(objective.Name, totalSteps, state.Step, liveProgress ? null : log ?? TextWriter.Null);

        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        (int, IReadOnlyList<int[]>)? epochCache = null;
        IReadOnlyDictionary<string, double> lastTrain = new Dictionary<string, double>(), lastEval = new Dictionary<string, double>();
        var window = new MetricWindow();
        model.train();
        while (state.Step < totalSteps)
        {
            double learningRate = options.LearningRate * LearningRateSchedule.Factor(state.Step, options.WarmupSteps, totalSteps, options.MinLearningRateRatio);
            OptimizerFactory.SetLearningRate(optimizer, learningRate);
            optimizer.zero_grad();
            for (int micro = 0; micro < options.GradientAccumulation; micro++)
            {
                using var scope = NewDisposeScope();
                manual_seed(Seeds.Derive(options.Seed, state.MicroBatches));
                int[] indices = BatchPlan.At(lengths, options.BatchSize, options.Seed, state.MicroBatches, ref epochCache);
                var step = objective.Forward(indices.Select(i => train[i]).ToList());
                (step.Loss / options.GradientAccumulation).backward();
                window.Add(step.Metrics);
                state = state with { MicroBatches = state.MicroBatches + 1 };
            }
            double gradNorm = options.MaxGradNorm > 0
                ? nn.utils.clip_grad_norm_(trainable, options.MaxGradNorm)
                : double.NaN;
            optimizer.step();
            state = state with { Step = state.Step + 1 };

            var current = window.Mean();
            if (!double.IsFinite(current.GetValueOrDefault("loss")))
                throw new RlhfException($"loss became {current["loss"]} at step {state.Step}; the last good checkpoint is kept in {checkpoints.Root}");
            if (state.Step % options.LogEvery == 0 || state.Step == totalSteps)
            {
                lastTrain = window.Mean(new() { ["learning_rate"] = learningRate, ["grad_norm"] = gradNorm });
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
            if (state.Step % options.SaveEvery == 0 || state.Step == totalSteps || stopping) checkpoints.Save(objective, optimizer, state);
            progress.Report(state.Step, current);
            if (stopping) return new TrainingSummary(state.Step, lastTrain, lastEval);
        }
        model.eval();
        objective.SavePretrained(outputDirectory);
        return new TrainingSummary(state.Step, lastTrain, lastEval);
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

    /// <summary>Averages the metrics of the micro-batches since the last log line.</summary>
    sealed class MetricWindow
    {
        readonly Dictionary<string, (double Sum, int Count)> _sums = [];

        public void Add(IReadOnlyDictionary<string, double> metrics)
        {
            foreach (var (name, value) in metrics)
                _sums[name] = _sums.TryGetValue(name, out var s) ? (s.Sum + value, s.Count + 1) : (value, 1);
        }

        public Dictionary<string, double> Mean(Dictionary<string, double>? extra = null)
        {
            var mean = _sums.ToDictionary(p => p.Key, p => p.Value.Sum / p.Value.Count);
            foreach (var (name, value) in extra ?? []) mean[name] = value;
            return mean;
        }
    }
}
