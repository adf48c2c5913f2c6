using RlhfSharp.Distributed;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>What a step is handed: where the run stands, and its learning rate and optimizer.</summary>
/// <param name="State">The run's state before this step.</param>
/// <param name="TotalSteps">Steps in the whole run.</param>
/// <param name="LearningRate">This step's learning rate, already set on <paramref name="Optimizer"/>.</param>
/// <param name="Optimizer">AdamW over the trainer's model, averaging gradients over the ranks.</param>
internal sealed record StepContext(TrainerState State, long TotalSteps, double LearningRate, DataParallelOptimizer Optimizer)
{
    /// <summary>This step's number, counting from 1: the steps done once it is done.</summary>
    public long Number => State.Step + 1;
    public bool IsLast => Number == TotalSteps;
}

/// <summary>What a step hands back to <see cref="TrainingRun"/>.</summary>
/// <param name="MicroBatches">Micro-batches (data positions) the step took, over all ranks; the run advances <see cref="TrainerState.MicroBatches"/> by them.</param>
/// <param name="MustBeFinite">Metrics the run checks: a non-finite one stops the run with an error naming the last good checkpoint.</param>
/// <param name="Row">The step's metrics.jsonl row (the world's metrics), or null when the step logs none.</param>
/// <param name="Live">What the progress display shows beside the step count.</param>
internal sealed record StepOutcome(long MicroBatches, IReadOnlyDictionary<string, double> MustBeFinite,
    IReadOnlyDictionary<string, double>? Row, IReadOnlyDictionary<string, double> Live);

/// <summary>Held-out metrics, and the trainer state with its best-so-far updated.</summary>
internal sealed record EvaluationOutcome(IReadOnlyDictionary<string, double> Metrics, TrainerState State);

/// <summary>
/// A trainer's own part of a run: its step, its held-out evaluation and what it saves. <see cref="TrainingRun"/> owns
/// the rest (resume, the optimizer, metrics, progress, cadence, checkpoints). Every rank makes each call.
/// </summary>
internal interface ITrainerSteps
{
    /// <summary>Short name for the progress display ("sft", "reward", "ppo").</summary>
    string Name { get; }
    /// <summary>What a step is called in messages: "step", or "iteration" (PPO).</summary>
    string StepUnit { get; }
    /// <summary>The trained module: the optimizer steps its trainable parameters, rank 0 broadcasts them at the start.</summary>
    nn.Module Model { get; }
    /// <summary>
    /// Whether held-out metrics join the step's metrics.jsonl row (PPO: one row an iteration) rather than making a row of
    /// their own, all of whose names start with eval_ (sft, reward).
    /// </summary>
    bool LogsEvaluationWithStep { get; }

    /// <summary>Restores the weights and the trainer's own state from a checkpoint folder (the run restores the optimizer's).</summary>
    void Load(string checkpoint);
    /// <summary>One step: an optimizer step (sft, reward) or a PPO iteration.</summary>
    StepOutcome Step(StepContext step);
    /// <summary>Held-out metrics after the step numbered <paramref name="state"/>.Step, when evaluation is due; null when there is nothing held out.</summary>
    EvaluationOutcome? Evaluate(TrainerState state);
    /// <summary>Called once the step's row is logged, before any checkpoint (PPO writes samples and its reward curve).</summary>
    void AfterStep(TrainerState state, bool checkpointing) { }
    /// <summary>Writes the model into a folder (called on rank 0): the final model, and each checkpoint's.</summary>
    void SaveModel(string directory);
    /// <summary>Writes what a checkpoint holds beyond the model, the optimizer and the trainer state (called on rank 0).</summary>
    void SaveCheckpointState(string directory) { }
}
