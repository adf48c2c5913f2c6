using RlhfSharp.Distributed;
using RlhfSharp.Training.Metrics;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>The outcome of a run: where it ended and its last metrics.</summary>
public sealed record TrainingSummary(long Steps, IReadOnlyDictionary<string, double> LastTrainMetrics, IReadOnlyDictionary<string, double> LastEvalMetrics);

/// <summary>
/// The supervised trainers' step (sft, reward): deterministic batches, gradient accumulation, clipping and AdamW, with
/// metrics averaged over log_every steps and periodic held-out evaluation; <see cref="TrainingRun"/> owns the rest
/// (schedule, metrics files, progress, checkpoints and exact resume). Dropout's random stream is reseeded from (seed,
/// micro-batch) each micro-batch, so a resumed run draws the same masks as an uninterrupted one without saving generator
/// state. With lora_r the objective's <see cref="TrainedModel"/> first puts LoRA adapters on the model and freezes the base
/// (the optimizer then steps, all-reduces and shards only what trains), and the run saves adapter folders. Messages and
/// progress go to <paramref name="progress"/> (default: nowhere).
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
    IProgressSink? progress = null, IDistributed? world = null)
{
    readonly IDistributed _world = world ?? SingleProcess.Instance;
    TrainingRun? _run;

    /// <summary>
    /// Metrics an objective reports per micro-batch that are logged as totals per optimizer step over all micro-batches
    /// and ranks (the mean over the steps since the last log line): <c>tokens</c>, the response tokens a step trained on.
    /// </summary>
    public static readonly IReadOnlyList<string> StepTotals = ["tokens"];

    /// <summary>Optimizer steps done so far in the run (including those before a resume); safe to read from another thread.</summary>
    public long CompletedSteps => Volatile.Read(ref _run)?.CompletedSteps ?? 0;

    /// <param name="stopAtStep">Stop after this step with a checkpoint, as an interrupted run would (the
    /// schedule still spans the whole run); the final model is then not written.</param>
    public TrainingSummary Run(IReadOnlyList<TExample> train, IReadOnlyList<TExample> heldOut, bool resume, long? stopAtStep = null)
    {
        options.Validate();
        if (train.Count == 0) throw new RlhfException("no training examples");
        long microBatchesPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        long totalSteps = options.MaxSteps ?? Math.Max(1, (long)Math.Ceiling(options.Epochs * microBatchesPerEpoch / options.GradientAccumulation));

        long frozen = LayerFreezing.FreezeBottom(objective.Model, objective.Config, options.FreezeBottomLayers);
        if (frozen > 0 && _world.IsRoot)
            progress?.Log.WriteLine($"froze {frozen:N0} parameters (embeddings and the bottom {options.FreezeBottomLayers} layers)");
        objective.Trained.Prepare(options);
        if (objective.Trained.HasAdapters && _world.IsRoot) progress?.Log.WriteLine(objective.Trained.Describe());
        GradientCheckpointing.Apply(objective.Model, options, progress, _world);
        (train, heldOut) = objective.Start(train, heldOut,
            new RunStart(outputDirectory, resume, options, _world, (_world.IsRoot ? progress?.Log : null) ?? TextWriter.Null));
        var run = new TrainingRun(new SupervisedSteps(objective, options, _world, train, heldOut), options, totalSteps, outputDirectory, progress, _world);
        Volatile.Write(ref _run, run);
        objective.Model.train();
        var result = run.Run(resume, stopAtStep);
        // The last training row and the last evaluation row (all of its names eval_*), over the whole run.
        static bool IsEval(IReadOnlyDictionary<string, double> row) => row.Keys.All(name => name.StartsWith("eval_", StringComparison.Ordinal));
        return new TrainingSummary(result.State.Step,
            result.History.LastOrDefault(row => !IsEval(row)) ?? new Dictionary<string, double>(),
            result.History.LastOrDefault(row => row.Count > 0 && IsEval(row)) ?? new Dictionary<string, double>());
    }

    /// <summary>One optimizer step over gradient_accumulation micro-batches on each rank, and the held-out evaluation.</summary>
    sealed class SupervisedSteps(ITrainingObjective<TExample> objective, SupervisedTrainingOptions options, IDistributed world,
        IReadOnlyList<TExample> train, IReadOnlyList<TExample> heldOut) : ITrainerSteps
    {
        readonly int[] _lengths = train.Select(objective.Length).ToArray();
        (int, IReadOnlyList<int[]>)? _epochCache;
        MetricWindow _window = new();

        public string Name => objective.Name;
        public string StepUnit => "step";
        public nn.Module Model => objective.Model;
        public bool LogsEvaluationWithStep => false;

        public void Load(string checkpoint) => objective.Trained.Load(checkpoint);

        public void SaveModel(string directory) => objective.Trained.Save(directory);

        public StepOutcome Step(StepContext step)
        {
            var optimizer = step.Optimizer;
            optimizer.ZeroGrad();
            for (int micro = 0; micro < options.GradientAccumulation; micro++)
            {
                using var scope = NewDisposeScope();
                long position = step.State.MicroBatches + (long)micro * world.Size + world.Rank;
                manual_seed(Seeds.Derive(options.Seed, position));
                int[] indices = BatchPlan.At(_lengths, options.BatchSize, options.Seed, position, ref _epochCache);
                var loss = objective.Forward(indices.Select(i => train[i]).ToList());
                optimizer.Backward(loss.Loss / options.GradientAccumulation, lastInStep: micro == options.GradientAccumulation - 1);
                _window.Add(loss.Metrics);
            }
            _window.CompleteStep();
            // Without clipping (max_grad_norm 0) an infinite limit still measures the logged norm and scales by exactly 1.
            double gradNorm = optimizer.ReduceAndClip(options.MaxGradNorm > 0 ? options.MaxGradNorm : double.PositiveInfinity);
            optimizer.Step();

            var current = WorldStatistics.Mean(world, _window.Mean(), [.. StepTotals]);
            Dictionary<string, double>? row = null;
            if (step.Number % options.LogEvery == 0 || step.IsLast)
            {
                row = new Dictionary<string, double>(current) { ["learning_rate"] = step.LearningRate, ["grad_norm"] = gradNorm };
                _window = new MetricWindow();
            }
            return new StepOutcome((long)options.GradientAccumulation * world.Size,
                new Dictionary<string, double> { ["loss"] = current.GetValueOrDefault("loss") }, row, current);
        }

        public EvaluationOutcome? Evaluate(TrainerState state)
        {
            if (heldOut.Count == 0) return null;
            objective.Model.eval();
            IReadOnlyDictionary<string, double> metrics;
            try
            {
                using var noGrad = no_grad();
                metrics = objective.Evaluate(heldOut, options.BatchSize);
            }
            finally
            {
                objective.Model.train();
            }
            if (metrics.TryGetValue("eval_loss", out double evalLoss) && evalLoss < (state.BestEvalLoss ?? double.MaxValue))
                state = state with { BestEvalLoss = evalLoss };
            return new EvaluationOutcome(metrics, state);
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
