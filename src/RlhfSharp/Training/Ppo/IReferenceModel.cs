using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>The frozen reference policy the KL penalty measures against.</summary>
public interface IReferenceModel : IDisposable
{
    /// <summary>The final hidden states [batch, time, hidden] that <see cref="Head"/> projects (called under no_grad).</summary>
    Tensor Hidden(DecoderInput input);

    /// <summary>The LM head of this reference.</summary>
    LmHead Head { get; }

    /// <summary>Bytes of parameters this reference holds of its own (what it costs beyond the policy).</summary>
    long ParameterBytes { get; }
}

public static class ReferenceModelExtensions
{
    /// <summary>Next-token logits [batch, time, vocab] at every position (called under no_grad); training projects only the
    /// response positions (<see cref="ChunkedLogProbs.Response"/>).</summary>
    public static Tensor Logits(this IReferenceModel reference, DecoderInput input)
    {
        using var hidden = reference.Hidden(input);
        return reference.Head.Logits(hidden);
    }
}

/// <summary>A full frozen copy of the starting policy.</summary>
public sealed class FullReference(CausalLanguageModel model) : IReferenceModel
{
    public Tensor Hidden(DecoderInput input)
    {
        model.eval();
        return model.Hidden(input);
    }

    public LmHead Head => model.Head;

    public long ParameterBytes => model.parameters().Sum(p => p.numel() * p.element_size());

    public void Dispose() => model.Dispose();
}
