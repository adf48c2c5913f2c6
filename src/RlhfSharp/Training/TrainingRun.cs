using RlhfSharp.Distributed;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training;

/// <summary>How a run ended: its state, and every metrics row (on rank 0, those before a resume read back from metrics.jsonl).</summary>
internal sealed record RunResult(TrainerState State, IReadOnlyList<IReadOnlyDictionary<string, double>> History);

/// <summary>
/// The lifecycle every trainer shares, around the step its <see cref="ITrainerSteps"/> supplies: resume from the latest
/// checkpoint, parameters broadcast from rank 0, the warmup + cosine learning rate, metrics (metrics.jsonl + TensorBoard),
/// progress, the non-finite check, evaluation and checkpoint cadence, stop-at-step and stop requests (SIGTERM), the final model and the data-parallel
/// report. Only rank 0 writes files and talks (to <paramref name="progress"/>).
/// </summary>
/// <param name="totalSteps">Steps in the whole run (the schedule spans them all, also when it stops early).</param>
internal sealed class TrainingRun(ITrainerSteps trainer, TrainingOptions options, long totalSteps, string outputDirectory,
    IProgressSink? progress = null, IDistributed? world = null)
{
    readonly IDistributed _world = world ?? SingleProcess.Instance;
    /// <summary>Only rank 0 talks.</summary>
    readonly IProgressSink _progress = (world is null || world.IsRoot ? progress : null) ?? SilentProgress.Instance;
    long _completedSteps;

    /// <summary>Steps done so far in the run (including those before a resume); safe to read from another thread.</summary>
    public long CompletedSteps => Volatile.Read(ref _completedSteps);

    /// <param name="stopAtStep">Stop after this step with a checkpoint, as an interrupted run would; the final model is then not written.</param>
    public RunResult Run(bool resume, long? stopAtStep = null)
    {
        bool root = _world.IsRoot;
        using var optimizer = new DataParallelOptimizer(trainer.Model, options, _world);
        var checkpoints = new TrainingCheckpoints(outputDirectory);
        var state = new TrainerState { TotalSteps = totalSteps, Seed = options.Seed, Ranks = _world.Size };
        if (resume && checkpoints.Latest is { } latest)
        {
            // The checkpoints written from here on record the world that wrote them (a resume may run on fewer ranks).
            state = TrainingCheckpoints.Restore(latest, trainer.Load, optimizer.LoadState) with { Ranks = _world.Size };
            _progress.Log.WriteLine(state.Step >= totalSteps
                ? $"the run in {outputDirectory} had already finished at {trainer.StepUnit} {state.Step}; nothing left to train"
                : $"resuming from {latest} at {trainer.StepUnit} {state.Step}");
        }
        Volatile.Write(ref _completedSteps, state.Step);
        ParameterSync.Broadcast(_world, trainer.Model.parameters());
        using var metrics = new MetricsWriter(outputDirectory, enabled: root);
        if (root) metrics.TruncateAfter(state.Step);
        // The history covers the whole run: after a resume, rank 0 reads back the rows logged before the interruption.
        var history = root && state.Step > 0 && File.Exists(metrics.JsonlPath)
            ? MetricsWriter.ReadJsonl(metrics.JsonlPath).Select(r => r.Values).ToList()
            : [];
        using var steps = _progress.Start(trainer.Name, totalSteps, state.Step);

        void Log(IReadOnlyDictionary<string, double>? row)
        {
            if (row is null) return;
            metrics.Log(state.Step, row);
            history.Add(row);
        }

        while (state.Step < totalSteps)
        {
            double learningRate = options.LearningRate * LearningRateSchedule.Factor(state.Step, options.WarmupSteps, totalSteps, options.MinLearningRateRatio);
            optimizer.SetLearningRate(learningRate);
            var outcome = trainer.Step(new StepContext(state, totalSteps, learningRate, optimizer));
            state = state with { Step = state.Step + 1, MicroBatches = state.MicroBatches + outcome.MicroBatches };
            Volatile.Write(ref _completedSteps, state.Step);
            RequireFinite(outcome.MustBeFinite, state.Step, checkpoints.Root);

            var row = outcome.Row;
            if (!trainer.LogsEvaluationWithStep)
            {
                Log(row);
                row = null;
            }
            if ((state.Step % options.EvalEvery == 0 || state.Step == totalSteps) && trainer.Evaluate(state) is { } evaluation)
            {
                state = evaluation.State;
                row = row is null ? evaluation.Metrics : new Dictionary<string, double>(row.Concat(evaluation.Metrics));
            }
            Log(row);

            bool preempted = state.Step < totalSteps && StopAgreed();
            bool stopping = state.Step == stopAtStep || preempted;
            bool checkpointing = state.Step % options.SaveEvery == 0 || state.Step == totalSteps || stopping;
            trainer.AfterStep(state, checkpointing);
            if (checkpointing)
            {
                var writeOptimizer = optimizer.StateWriter();
                if (root)
                    checkpoints.Save(directory =>
                    {
                        trainer.SaveModel(directory);
                        trainer.SaveCheckpointState(directory);
                    }, writeOptimizer, state);
            }
            steps.Report(state.Step, outcome.Live);
            if (preempted) StopRequest.Current!.StoppedAfterStep = state.Step;
            if (stopping) return Finish(optimizer, state, history);
        }
        trainer.Model.eval();
        if (root) trainer.SaveModel(outputDirectory);
        return Finish(optimizer, state, history);
    }

    RunResult Finish(DataParallelOptimizer optimizer, TrainerState state, List<IReadOnlyDictionary<string, double>> history)
    {
        DistributedReport.Finish(_world, optimizer, trainer.Model.parameters(), options.ZeroStage, outputDirectory, _progress.Log);
        return new RunResult(state, history);
    }

    /// <summary>
    /// Whether the run stops here for a <see cref="StopRequest"/>: asked on any rank (a signal reaches the ranks at different
    /// moments), so every rank stops after the same step. One small all-reduce a step, only when a request is in force
    /// (every rank runs the same command, so all have one or none).
    /// </summary>
    bool StopAgreed()
    {
        if (StopRequest.Current is not { } request) return false;
        Span<double> asked = [request.Requested ? 1 : 0];
        _world.AllReduce(asked, ReduceOp.Max);
        return asked[0] > 0;
    }

    /// <summary>A non-finite metric stops the run, naming the checkpoint to go back to.</summary>
    void RequireFinite(IReadOnlyDictionary<string, double> metrics, long step, string checkpointsRoot)
    {
        var broken = metrics.Where(m => !double.IsFinite(m.Value)).Select(m => $"{m.Key} became {m.Value}").ToList();
        if (broken.Count > 0)
            throw new RlhfException($"{string.Join(", ", broken)} at {trainer.StepUnit} {step}; the last good checkpoint is kept in {checkpointsRoot}");
    }
}
