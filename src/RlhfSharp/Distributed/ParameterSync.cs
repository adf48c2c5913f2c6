using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>Keeping the ranks' copies of the model the same.</summary>
public static class ParameterSync
{
    /// <summary>Copies rank 0's values into every rank's parameters (in place, one tensor at a time, no extra copy).</summary>
    public static void Broadcast(IDistributed world, IEnumerable<Tensor> parameters)
    {
        if (world.Size == 1) return;
        using var noGrad = no_grad();
        foreach (var p in parameters) world.Broadcast(p);
    }

    /// <summary>The largest |w - w_rank0| over all parameters and ranks (0 when the ranks agree exactly); a collective.</summary>
    public static double MaxDifferenceFromRoot(IDistributed world, IEnumerable<Tensor> parameters)
    {
        if (world.Size == 1) return 0;
        using var noGrad = no_grad();
        double max = 0;
        foreach (var p in parameters)
        {
            using var scope = NewDisposeScope();
            var root = p.detach().clone();
            world.Broadcast(root);
            max = Math.Max(max, (p - root).abs().max().ToDouble());
        }
        Span<double> result = [max];
        world.AllReduce(result, ReduceOp.Max);
        return result[0];
    }
}
