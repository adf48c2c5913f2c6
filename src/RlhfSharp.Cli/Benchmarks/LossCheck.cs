using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Checks that both sides compute the same thing: a seeded model is saved as safetensors (Hugging Face names),
/// the reference loads those weights, and both take one training step on the benchmark batch.
/// </summary>
internal static class LossCheck
{
    public static LossCheckResult Run(ModelConfig config, string python, int threads, int batch, int sequence)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"rlhf-bench-weights-{Guid.NewGuid():N}");
        try
        {
            manual_seed(0);
            using var model = new CausalLanguageModel(config);
            model.SavePretrained(directory);
            using var step = new TrainingStep(model, batch, sequence);
            double before = step.Run().Loss;
            double after = step.Loss();
            var (pytorchBefore, pytorchAfter) = PytorchReference.Loss(python, threads, directory, batch, sequence);
            return new LossCheckResult(before, after, pytorchBefore, pytorchAfter);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
