using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>The frozen reference policy the KL penalty measures against.</summary>
public interface IReferenceModel : IDisposable
{
    /// <summary>Next-token logits [batch, time, vocab] (called under no_grad).</summary>
    Tensor Logits(DecoderInput input);

    /// <summary>Bytes of parameters this reference holds of its own (what it costs beyond the policy).</summary>
    long ParameterBytes { get; }
}

/// <summary>A full frozen copy of the starting policy.</summary>
public sealed class FullReference(CausalLanguageModel model) : IReferenceModel
{
    public Tensor Logits(DecoderInput input)
    {
        model.eval();
        return model.call(input);
    }

    public long ParameterBytes => model.parameters().Sum(p => p.numel() * p.element_size());

    public void Dispose() => model.Dispose();
}
