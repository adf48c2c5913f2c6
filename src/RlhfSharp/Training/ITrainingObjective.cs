using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>The loss of one micro-batch, with its metrics already detached as numbers.</summary>
public sealed record StepLoss(Tensor Loss, IReadOnlyDictionary<string, double> Metrics);

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
    /// <summary>The model with its LoRA setup and the folders it is saved as: the final model, each checkpoint, and what a resume loads.</summary>
    TrainedModel Trained { get; }
}
