using RlhfSharp.Models.Lora;
using RlhfSharp.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Layers;

/// <summary>
/// Every projection of a decoder block: y = x·Wᵀ + b, stored as nn.Linear stores it ([out, in]) or, for GPT-2's
/// Conv1D, transposed ([in, out], PEFT's fan_in_fan_out), so checkpoints load by name either way. It may carry a
/// LoRA adapter (<see cref="LoraAdapter"/>, children lora_A / lora_B as PEFT names them), which adds
/// scale·B·A·dropout(x) while it is enabled, and further named adapters (<see cref="NamedAdapters"/>: another model's
/// adapter on the same base weights, e.g. PPO's reward model), each added while enabled.
/// </summary>
internal sealed class AdaptableLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Hugging Face parameter names
    readonly Parameter weight;
    readonly Parameter? bias;
#pragma warning restore IDE1006

    AdaptableLinear(Parameter weight, Parameter? bias, long inFeatures, long outFeatures, bool fanInFanOut) : base(nameof(AdaptableLinear))
    {
        (this.weight, this.bias) = (weight, bias);
        (InFeatures, OutFeatures, FanInFanOut) = (inFeatures, outFeatures, fanInFanOut);
        register_parameter(nameof(weight), weight);
        if (bias is not null) register_parameter(nameof(bias), bias);
    }

    /// <summary>nn.Linear's layout and initialisation (the same random draws, so seeded models do not change).</summary>
    public static AdaptableLinear Linear(long inFeatures, long outFeatures, bool hasBias = true)
    {
        using var initial = nn.Linear(inFeatures, outFeatures, hasBias);
        return new AdaptableLinear(Keep(initial.weight!), hasBias ? Keep(initial.bias!) : null, inFeatures, outFeatures, fanInFanOut: false);
    }

    /// <summary>GPT-2's Conv1D: weight [in, out] from N(0, 0.02), zero bias.</summary>
    public static AdaptableLinear Conv1D(long inFeatures, long outFeatures)
    {
        var weight = nn.Parameter(empty(inFeatures, outFeatures));
        nn.init.normal_(weight, std: 0.02);
        return new AdaptableLinear(weight, nn.Parameter(zeros(outFeatures)), inFeatures, outFeatures, fanInFanOut: true);
    }

    // The temporary nn.Linear is disposed; copies of its parameters live on in this module. The detached view is disposed
    // at once: left to the garbage collector, it would keep the temporary's storage, a second copy of every weight, resident.
    static Parameter Keep(Parameter parameter)
    {
        using var detached = parameter.detach();
        return nn.Parameter(detached.clone());
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    /// <summary>Weight stored [in, out] (GPT-2's Conv1D) rather than [out, in].</summary>
    public bool FanInFanOut { get; }
    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    /// <summary>The LoRA adapter on this layer, if any.</summary>
    public LoraAdapter? Adapter { get; private set; }

    readonly List<(string Name, LoraAdapter Adapter)> _named = [];

    /// <summary>Adapters set aside under a name (<see cref="NameAdapter"/>): not <see cref="Adapter"/>, so not what is saved,
    /// merged or switched off as this layer's adapter, yet added to the output while enabled.</summary>
    public IReadOnlyList<(string Name, LoraAdapter Adapter)> NamedAdapters => _named;

    public override Tensor forward(Tensor x)
    {
        var output = SkinnyGemm.Linear(x, weight, bias, transposed: FanInFanOut) ?? (FanInFanOut
            ? (bias is null ? x.matmul(weight) : bias.addmm(x.flatten(0, -2), weight).unflatten(0, x.shape[..^1]))
            : nn.functional.linear(x, weight, bias));
        if (Adapter is { Enabled: true } adapter)
        {
            using var delta = adapter.Delta(x, training);
            output.add_(delta);
        }
        foreach (var (_, named) in _named)
            if (named.Enabled)
            {
                using var delta = named.Delta(x, training);
                output.add_(delta);
            }
        return output;
    }

    /// <summary>Adds a fresh adapter (A from PEFT's kaiming-uniform, B zero: the layer's output is unchanged until B trains),
    /// registered as lora_A / lora_B so its parameters carry PEFT's names.</summary>
    public LoraAdapter Attach(LoraSettings settings)
    {
        if (Adapter is not null) throw new InvalidOperationException("this layer already carries a LoRA adapter");
        Adapter = new LoraAdapter(InFeatures, OutFeatures, settings);
        register_module(LoraAdapter.AName, Adapter.A);
        register_module(LoraAdapter.BName, Adapter.B);
        return Adapter;
    }

    /// <summary>Folds the adapter into the weight (W += scale·B·A, transposed for Conv1D's [in, out]) and removes it.</summary>
    public void Merge()
    {
        if (Adapter is null) return;
        using (no_grad())
        using (var delta = Adapter.DeltaWeight())
            weight.add_(FanInFanOut ? delta.t() : delta);
        Remove();
    }

    /// <summary>
    /// Sets the adapter aside under <paramref name="name"/>, switched off (children lora_A_&lt;name&gt; / lora_B_&lt;name&gt;):
    /// the layer is free for another adapter while this one stays on the same weight.
    /// </summary>
    public void NameAdapter(string name)
    {
        if (Adapter is null) return;
        if (_named.Any(n => n.Name == name)) throw new InvalidOperationException($"this layer already carries an adapter named '{name}'");
        register_module(LoraAdapter.AName, null!);
        register_module(LoraAdapter.BName, null!);
        register_module($"{LoraAdapter.AName}_{name}", Adapter.A);
        register_module($"{LoraAdapter.BName}_{name}", Adapter.B);
        Adapter.Enabled = false;
        _named.Add((name, Adapter));
        Adapter = null;
    }

    /// <summary>Drops the adapter without touching the weight.</summary>
    public void Remove()
    {
        if (Adapter is null) return;
        register_module(LoraAdapter.AName, null!); // TorchSharp unregisters a child given null
        register_module(LoraAdapter.BName, null!);
        Adapter.Dispose();
        Adapter = null;
    }

    protected override void RegisterComponents() { }
}
