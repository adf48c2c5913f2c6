using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>The language-model head's parameters: logits = hidden · Weightᵀ + Bias, Weight [vocab, hidden] (a tied head's is
/// the token embedding itself, so gradients reach it). Handed to code that projects only some positions, or a chunk at a time.</summary>
public readonly record struct LmHead(Tensor Weight, Tensor? Bias)
{
    public long VocabSize => Weight.shape[0];

    /// <summary>Hidden states [.., hidden] to logits [.., vocab].</summary>
    public Tensor Logits(Tensor hidden) => Native.SkinnyGemm.Linear(hidden, Weight, Bias, transposed: false) ?? nn.functional.linear(hidden, Weight, Bias);
}
