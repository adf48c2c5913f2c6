using System.Text.RegularExpressions;
using RlhfSharp.Models.Layers;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// LoRA on a whole model: which projections an adapter goes on (PEFT's matching of target module names), freezing the
/// base, switching adapters off (PPO's reference is the same model without them) and folding them into the weights.
/// </summary>
public static class LoraModel
{
    /// <summary>
    /// Puts a fresh adapter on every projection <paramref name="settings"/> targets and freezes every other parameter
    /// of <paramref name="model"/> (heads named in <paramref name="trainable"/> stay trainable: a reward model's score).
    /// Returns the adapted modules' paths. A target that matches nothing is a one-line error listing what could match.
    /// </summary>
    public static IReadOnlyList<string> Attach(nn.Module model, LoraSettings settings, IReadOnlyCollection<string>? trainable = null)
    {
        settings.Validate();
        var layers = Projections(model);
        var chosen = layers.Where(l => Targets(settings, l.Path)).ToList();
        var unmatched = settings.TargetModules.Where(t => t != LoraSettings.AllLinear && settings.TargetPattern is null
            && !layers.Any(l => MatchesName(t, l.Path))).ToList();
        if (unmatched.Count > 0 || chosen.Count == 0)
            throw new RlhfException($"LoRA target module{(unmatched.Count == 1 ? "" : "s")} '{string.Join(", ", unmatched.Count > 0 ? unmatched : settings.TargetModules)}' " +
                $"match{(unmatched.Count == 1 ? "es" : "")} no linear layer of this model; its linear layers are {string.Join(", ", LeafNames(model))} (or {LoraSettings.AllLinear})");
        foreach (var parameter in model.parameters()) parameter.requires_grad = false;
        foreach (var (_, layer) in chosen) layer.Attach(settings);
        if (trainable is not null)
            foreach (var (name, parameter) in model.named_parameters())
                if (trainable.Any(t => name == t || name.StartsWith(t + ".", StringComparison.Ordinal))) parameter.requires_grad = true;
        return chosen.Select(l => l.Path).ToList();
    }

    /// <summary>The adapters on <paramref name="model"/>, by module path.</summary>
    public static IReadOnlyList<(string Path, LoraAdapter Adapter)> Adapters(nn.Module model) =>
        Projections(model).Where(l => l.Layer.Adapter is not null).Select(l => (l.Path, l.Layer.Adapter!)).ToList();

    public static bool HasAdapters(nn.Module model) => Projections(model).Any(l => l.Layer.Adapter is not null);

    /// <summary>The distinct leaf names of the model's projections (what target modules name: q_proj, c_attn ...).</summary>
    public static IReadOnlyList<string> LeafNames(nn.Module model) =>
        Projections(model).Select(l => l.Path[(l.Path.LastIndexOf('.') + 1)..]).Distinct().ToList();

    /// <summary>Switches the model's own adapters off until disposed: it computes its base weights alone, plus any named
    /// adapter (<see cref="NameAdapters"/>) that is on.</summary>
    public static IDisposable Disabled(nn.Module model) => Switch(Adapters(model).Select(a => (a.Adapter, false)));

    /// <summary>
    /// Sets every adapter of <paramref name="model"/> aside under <paramref name="name"/>, switched off (see
    /// <see cref="AdaptableLinear.NameAdapter"/>): another adapter can then go on the same base weights, e.g. PPO's policy
    /// adapter beside its reward model's. Returns how many were set aside.
    /// </summary>
    public static int NameAdapters(nn.Module model, string name)
    {
        var layers = Projections(model).Where(l => l.Layer.Adapter is not null).ToList();
        foreach (var (_, layer) in layers) layer.NameAdapter(name);
        return layers.Count;
    }

    /// <summary>The adapters set aside under <paramref name="name"/>, by module path.</summary>
    public static IReadOnlyList<(string Path, LoraAdapter Adapter)> NamedAdapters(nn.Module model, string name) =>
        Projections(model).SelectMany(l => l.Layer.NamedAdapters.Where(n => n.Name == name).Select(n => (l.Path, n.Adapter))).ToList();

    /// <summary>Switches the adapters named <paramref name="name"/> on until disposed (the others stay as they are).</summary>
    public static IDisposable Enabled(nn.Module model, string name) => Switch(NamedAdapters(model, name).Select(a => (a.Adapter, true)));

    /// <summary>Until disposed, only the adapters named <paramref name="name"/> are on: the base with that adapter alone.</summary>
    public static IDisposable Only(nn.Module model, string name) =>
        Switch(Projections(model).SelectMany(l => (l.Layer.Adapter is { } own ? [own] : Array.Empty<LoraAdapter>()).Select(a => (a, false))
            .Concat(l.Layer.NamedAdapters.Select(n => (n.Adapter, n.Name == name)))));

    /// <summary>Sets each adapter's <see cref="LoraAdapter.Enabled"/>; disposing puts back what each was.</summary>
    static IDisposable Switch(IEnumerable<(LoraAdapter Adapter, bool Enabled)> settings)
    {
        var before = new List<(LoraAdapter, bool)>();
        foreach (var (adapter, enabled) in settings)
        {
            before.Add((adapter, adapter.Enabled));
            adapter.Enabled = enabled;
        }
        return new Restore(before);
    }

    sealed class Restore(List<(LoraAdapter Adapter, bool Enabled)> before) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (adapter, enabled) in before) adapter.Enabled = enabled;
        }
    }

    /// <summary>Folds every adapter into its layer's weight (W + scale·B·A) and removes it: a plain model again.</summary>
    public static void Merge(nn.Module model)
    {
        foreach (var (_, layer) in Projections(model)) layer.Merge();
    }

    /// <summary>PEFT's rule for a list of names: the module's path is a name, or ends in "." + a name; a single string
    /// is a regular expression the whole path must match.</summary>
    internal static bool Targets(LoraSettings settings, string path) =>
        settings.TargetPattern is { } pattern
            ? Regex.IsMatch(path, $"^(?:{pattern})$")
            : settings.TargetModules.Any(t => t == LoraSettings.AllLinear || MatchesName(t, path));

    static bool MatchesName(string target, string path) => path == target || path.EndsWith("." + target, StringComparison.Ordinal);

    internal static List<(string Path, AdaptableLinear Layer)> Projections(nn.Module model) =>
        model.named_modules().Where(m => m.module is AdaptableLinear).Select(m => (m.name, (AdaptableLinear)m.module)).ToList();
}
