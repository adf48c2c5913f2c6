using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

internal static class ModuleNaming
{
    /// <summary>
    /// Registers <paramref name="child"/> under a name chosen at run time: each dialect names the same
    /// part differently (ln_1 / input_layernorm, h / layers), and parameter names must match the
    /// checkpoint's exactly so loading is by name.
    /// </summary>
    public static T AddChild<T>(this nn.Module parent, string name, T child) where T : nn.Module
    {
        parent.register_module(name, child);
        return child;
    }
}
