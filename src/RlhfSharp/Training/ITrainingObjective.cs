using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>The loss of one micro-batch, with its metrics already detached as numbers.</summary>
public sealed record StepLoss(Tensor Loss, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// What differs between trainers (SFT, reward model): how a batch becomes a loss, how held-out data is
/// scored and how the model is saved. <see cref="TrainingLoop{TExample}"/> and the <see cref="TrainingRun"/> it runs own everything else.
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
    /// <summary>Writes the model as a Hugging Face directory.</summary>
    void SavePretrained(string directory);
    /// <summary>The checkpoint-prefix rules used to load the model's own saved checkpoints on resume.</summary>
    void LoadCheckpointWeights(string directory);
}
