using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>
/// A decoder block that keeps none of its activations for backward (gradient checkpointing, as PyTorch's reentrant
/// torch.utils.checkpoint does it): forward runs the block without a graph and saves only its input; backward runs the
/// block again with a graph, from that input and with the random generator as the first run found it (so dropout draws
/// the same masks), and differentiates the recomputed output. Its tensor inputs are the hidden states, the generator
/// state, the context's masks and rotary angles (no gradients) and the block's trainable parameters, whose gradients it
/// returns: the engine accumulates them into .grad as for any other use of a parameter, also when the hidden states need
/// no gradient (frozen layers below), where a function of the hidden states alone would be skipped. The generator saved
/// is LibTorch's default (CPU) one, which every dropout of this CPU build draws from.
/// </summary>
internal sealed class CheckpointedBlock : autograd.SingleTensorFunction<CheckpointedBlock>
{
    // apply's arguments: the block and the context (no tensors), the saved tensors (the hidden states, the generator
    // state, the context's tensors), then the trainable parameters.
    const int BlockArg = 0, ContextArg = 1, FirstSavedArg = 2;
    const int SavedHidden = 0, SavedGenerator = 1, SavedContext = 2;
    const string BlockKey = "block", ContextKey = "context", TrainableKey = "trainable";

    public override string Name => nameof(CheckpointedBlock);

    /// <summary>Whether <see cref="Run"/> has anything to do: a pass that builds a graph through a block with a gradient to give.</summary>
    public static bool Applies(DecoderBlock block, Tensor hidden, AttentionContext context) =>
        is_grad_enabled() && context.Cache is null && (hidden.requires_grad || block.parameters().Any(p => p.requires_grad));

    /// <summary>The block's output, as <c>block.call(hidden, context)</c> computes it, with its activations recomputed in backward.</summary>
    public static Tensor Run(DecoderBlock block, Tensor hidden, AttentionContext context)
    {
        Parameter[] trainable = block.parameters().Where(p => p.requires_grad).ToArray();
        return apply([block, context, hidden, get_rng_state(), .. context.Tensors, .. trainable]);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var block = (DecoderBlock)vars[BlockArg];
        var context = (AttentionContext)vars[ContextArg];
        ctx.save_data(BlockKey, block);
        ctx.save_data(ContextKey, context);
        int firstParameter = FirstSavedArg + SavedContext + context.Tensors.Length;
        ctx.save_data(TrainableKey, vars[firstParameter..].Cast<Parameter>().ToArray());
        // The generator state and the context's tensors are saved by the graph too: the caller's dispose scopes end before backward.
        var saved = vars[FirstSavedArg..firstParameter].Select(v => (Tensor)v).ToList();
        ctx.save_for_backward(saved);
        return block.call(saved[SavedHidden], context);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var scope = NewDisposeScope();
        var block = (DecoderBlock)ctx.get_data(BlockKey);
        var trainable = (Parameter[])ctx.get_data(TrainableKey);
        var saved = ctx.get_saved_variables();
        var context = ((AttentionContext)ctx.get_data(ContextKey)).WithTensors(saved[SavedContext..]);
        var hidden = saved[SavedHidden].detach().requires_grad_(saved[SavedHidden].requires_grad);

        var generatorNow = get_rng_state();
        set_rng_state(saved[SavedGenerator]);
        Tensor output;
        try
        {
            using var grad = enable_grad();
            output = block.call(hidden, context);
        }
        finally { set_rng_state(generatorNow); }

        List<Tensor> differentiated = [.. hidden.requires_grad ? [hidden] : Array.Empty<Tensor>(), .. trainable];
        var gradients = autograd.grad([output], differentiated, [gradOutput]).Select(g => g.MoveToOuterDisposeScope()).ToList();
        // One entry per argument of apply: gradients for the hidden states and the parameters, none for the rest.
        var perArgument = new Tensor[FirstSavedArg + saved.Count + trainable.Length];
        if (hidden.requires_grad) perArgument[FirstSavedArg + SavedHidden] = gradients[0];
        gradients.Skip(hidden.requires_grad ? 1 : 0).ToArray().CopyTo(perArgument, FirstSavedArg + saved.Count);
        return [.. perArgument];
    }
}
