using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Training.Metrics;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>
/// Gradient checkpointing of a model's decoder blocks (<see cref="TrainingOptions.GradientCheckpointing"/>): a pass that
/// builds a graph keeps no activations inside the blocks, and backward runs each block again instead.
/// </summary>
public static class GradientCheckpointing
{
    /// <summary>Turns checkpointing on or off in every decoder trunk of <paramref name="model"/> (PPO's policy and a
    /// separate value trunk); returns how many there are.</summary>
    public static int Set(nn.Module model, bool enabled)
    {
        var trunks = model.modules().OfType<DecoderTrunk>().ToList();
        foreach (var trunk in trunks) trunk.CheckpointBlocks = enabled;
        return trunks.Count;
    }

    /// <summary>When the options ask for it, every decoder trunk of the trained <paramref name="model"/> (PPO: the policy's
    /// and a separate value trunk) recomputes its blocks in backward instead of keeping their activations.</summary>
    internal static void Apply(nn.Module model, TrainingOptions options, IProgressSink? progress, IDistributed world)
    {
        if (!options.GradientCheckpointing) return;
        int trunks = Set(model, enabled: true);
        if (world.IsRoot) progress?.Log.WriteLine($"gradient checkpointing: the blocks of {trunks} trunk(s) are recomputed in backward instead of keeping their activations");
    }
}
