using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Training.Metrics;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>What every trainer does with <see cref="TrainingOptions.GradientCheckpointing"/>.</summary>
internal static class GradientCheckpointing
{
    /// <summary>When the options ask for it, every decoder trunk of the trained <paramref name="model"/> (PPO: the policy's
    /// and a separate value trunk) recomputes its blocks in backward instead of keeping their activations.</summary>
    public static void Apply(nn.Module model, TrainingOptions options, IProgressSink? progress, IDistributed world)
    {
        if (!options.GradientCheckpointing) return;
        int trunks = DecoderTrunk.CheckpointEveryTrunk(model);
        if (world.IsRoot) progress?.Log.WriteLine($"gradient checkpointing: the blocks of {trunks} trunk(s) are recomputed in backward instead of keeping their activations");
    }
}
