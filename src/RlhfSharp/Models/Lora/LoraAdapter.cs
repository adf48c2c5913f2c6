using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// The low-rank update of one linear layer: scale·B·A·dropout(x) with A [r, in] and B [out, r], registered on its layer
/// as lora_A / lora_B (PEFT's names). B starts at zero, so a fresh adapter leaves the layer's output exactly unchanged.
/// </summary>
public sealed class LoraAdapter : IDisposable
{
    internal const string AName = "lora_A", BName = "lora_B";

    internal LoraAdapter(long inFeatures, long outFeatures, LoraSettings settings)
    {
        Settings = settings;
        // PEFT's default init: A as nn.Linear initialises it (kaiming-uniform, a = √5), B zero.
        A = nn.Linear(inFeatures, settings.Rank, hasBias: false);
        B = nn.Linear(settings.Rank, outFeatures, hasBias: false);
        using var noGrad = no_grad();
        B.weight!.zero_();
    }

    public LoraSettings Settings { get; }
    public Linear A { get; }
    public Linear B { get; }

    /// <summary>Off: the layer is its base weight alone (PPO's reference policy is the same model with adapters off).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>scale·B(A(dropout(x))): what the adapter adds to the layer's output.</summary>
    public Tensor Delta(Tensor x, bool training)
    {
        using var scope = NewDisposeScope();
        var input = training && Settings.Dropout > 0 ? nn.functional.dropout(x, Settings.Dropout, training) : x;
        return B.call(A.call(input)).mul_(Settings.Scale).MoveToOuterDisposeScope();
    }

    /// <summary>scale·B·A [out, in]: the update folded into an nn.Linear-layout weight.</summary>
    public Tensor DeltaWeight() => B.weight!.matmul(A.weight!).mul_(Settings.Scale);

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
