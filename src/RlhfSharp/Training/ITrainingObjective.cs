using RlhfSharp.Distributed;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>The loss of one micro-batch, with its metrics already detached as numbers.</summary>
public sealed record StepLoss(Tensor Loss, IReadOnlyDictionary<string, double> Metrics);

/// <summary>What <see cref="ITrainingObjective{TExample}.Start"/> is told about the run.</summary>
/// <param name="OutputDirectory">The run folder (on rank 0 the objective may keep files there: DPO caches its reference log-probabilities).</param>
/// <param name="Resume">Whether the run continues from its latest checkpoint.</param>
/// <param name="Options">The run's options.</param>
/// <param name="World">The ranks: every rank calls Start; only rank 0 writes files.</param>
/// <param name="Log">Where messages go (rank 0's progress log; nowhere on the other ranks).</param>
public sealed record RunStart(string OutputDirectory, bool Resume, SupervisedTrainingOptions Options, IDistributed World, TextWriter Log);

/// <summary>
/// What differs between trainers (SFT, reward model): how a batch becomes a loss, how held-out data is
/// scored and what the model is (<see cref="Trained"/>: how it is saved, with or without LoRA). <see cref="TrainingLoop{TExample}"/> and the <see cref="TrainingRun"/> it runs own everything else.
/// </summary>
public interface ITrainingObjective<TExample>
{
    /// <summary>Short name for logs and the progress bar ("sft", "reward").</summary>
    string Name { get; }
    nn.Module Model { get; }
    ModelConfig Config { get; }
    /// <summary>Tokens in an example (for grouping similar lengths into a batch).</summary>
    int Length(TExample example);
    /// <summary>Forward pass with gradients; the loop calls backward on the loss.</summary>
    StepLoss Forward(IReadOnlyList<TExample> batch);
    /// <summary>Held-out metrics (no gradients), e.g. eval_loss and eval_perplexity.</summary>
    IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<TExample> examples, int batchSize);
    /// <summary>
    /// Called once a run, on every rank, before its first step: the model is as the run starts it (LoRA adapters on, a
    /// resume's checkpoint not loaded yet), so what the objective needs from the starting model is computed here (DPO: the
    /// reference log-probabilities). Returns the examples to train and evaluate on, carrying it. Default: them as they are.
    /// </summary>
    (IReadOnlyList<TExample> Train, IReadOnlyList<TExample> HeldOut) Start(IReadOnlyList<TExample> train, IReadOnlyList<TExample> heldOut, RunStart run) =>
        (train, heldOut);
    /// <summary>The model with its LoRA setup and the folders it is saved as: the final model, each checkpoint, and what a resume loads.</summary>
    TrainedModel Trained { get; }
}
