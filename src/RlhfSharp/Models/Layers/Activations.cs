using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>The activation functions Hugging Face configs name (activation_function / hidden_act).</summary>
internal static class Activations
{
    static readonly string[] Known = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "silu", "swish", "relu"];

    public static bool IsKnown(string name) => Known.Contains(name);

    public static Tensor Apply(string name, Tensor x) => name switch
    {
        // gelu_new is GPT-2's tanh approximation; transformers' gelu_pytorch_tanh and gelu_fast compute the same.
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => x.gelu(TorchSharp.Modules.GELU.Approximate.tanh),
        "gelu" => nn.functional.gelu(x),
        "silu" or "swish" => nn.functional.silu(x),
        "relu" => nn.functional.relu(x),
        _ => throw new ArgumentException($"unsupported activation '{name}'"),
    };
}
