using System.Reflection;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// Tells, while backward runs, which ranges of a <see cref="GradientBucket"/> already hold their final gradients, so their
/// all-reduce can start (DistributedDataParallel learns it from hooks run after each parameter's gradient is accumulated;
/// TorchSharp 0.107 has neither tensor hooks nor those, so this works from the autograd engine's order instead).
/// <para>
/// Forward leaves marks: each decoder block's input passes through an identity autograd function (a probe,
/// <see cref="GradientReadySignal"/>), and the first call of each decoder block and of each other module owning trainable
/// parameters (final norm, value head, score, embeddings; an untied LM head's is its trunk's return) is noted on one clock
/// with the probes. LibTorch runs a CPU
/// backward on the calling thread, one node at a time, always the ready node created last in forward (highest sequence
/// number), and a parameter's AccumulateGrad before any other (its sequence number is the largest). So when a probe's
/// backward runs, every node created after it in forward has run, with the accumulation into .grad of every parameter
/// first used after it: a parameter whose module was first called after the probe has its final gradient.
/// </para>
/// <para>
/// That needs a parameter not to be used before its module's first call. A decoder block's parameters (LoRA adapters
/// included) are used inside its call; a tied LM head reads the token embedding after the embedding module's call. A
/// parameter whose module is never called has no known first use and waits for the end of backward, as does everything while blocks are checkpointed (their recomputation inside
/// backward would create probes of its own).
/// </para>
/// </summary>
internal sealed unsafe class BackwardReadiness : IDisposable
{
    readonly IReadOnlyList<GradientRange> _ranges;
    readonly Action<int> _rangeReady;
    readonly int[] _groupOf; // per trainable parameter: the block or module that first uses it, -1 unknown
    readonly long[] _firstCall; // per group: clock at its first call in this window, 0 none yet
    readonly bool[] _ready; // per trainable parameter
    readonly List<long> _probes = [];
    readonly List<Action> _removeHooks = [];
    readonly List<DecoderTrunk> _trunks;
    long _clock;
    int _window, _nextRange;
    bool _armed;

    /// <param name="rangeReady">Called, on the thread running backward, with each range whose gradients are final, in range order.</param>
    public BackwardReadiness(nn.Module model, IReadOnlyList<Parameter> trainable, IReadOnlyList<GradientRange> ranges, Action<int> rangeReady)
    {
        (_ranges, _rangeReady) = (ranges, rangeReady);
        // TorchSharp's modules() leaves out the module itself.
        var modules = model.modules().Prepend(model).Distinct().ToList();
        _trunks = modules.OfType<DecoderTrunk>().ToList();
        var index = new Dictionary<IntPtr, int>();
        for (int i = 0; i < trainable.Count; i++) index[Key(trainable[i])] = i;
        _groupOf = Enumerable.Repeat(-1, trainable.Count).ToArray();
        _ready = new bool[trainable.Count];
        int groups = 0;

        foreach (var block in modules.OfType<DecoderBlock>())
        {
            int group = groups++;
            Assign(block.parameters(), group);
            // The probe on the block's input comes before the block's first call on the clock: it runs once the block's
            // backward is done, and then the block's parameters are final.
            _removeHooks.Add(Remover(block.register_forward_pre_hook((_, hidden, context) =>
            {
                var probed = Probe(hidden);
                Called(group);
                return (probed, context);
            })));
        }
        // An untied LM head is read (through LmHead) only once its trunk has returned: the trunk's return is its first use.
        foreach (var language in modules.OfType<CausalLanguageModel>())
        {
            var head = language.Head;
            if (Key(head.Weight) == Key(language.Trunk.TokenEmbedding)) continue;
            int group = groups++;
            Assign([head.Weight, .. head.Bias is { } bias ? [bias] : Array.Empty<Tensor>()], group);
            _removeHooks.Add(Remover(language.Trunk.register_forward_hook((nn.Module _) => Called(group))));
        }
        foreach (var module in modules.Where(m => m is not DecoderBlock))
        {
            var own = module.named_parameters(recurse: false).Select(p => p.parameter)
                .Where(p => index.TryGetValue(Key(p), out int i) && _groupOf[i] == -1).ToList();
            if (own.Count == 0 || PreHookRegistration(module) is not { } register) continue;
            int group = groups++;
            Assign(own, group);
            _removeHooks.Add(Remover(register.Invoke(module, [(Action<nn.Module>)(_ => Called(group))])));
        }
        _firstCall = new long[groups];

        void Assign(IEnumerable<Tensor> parameters, int group)
        {
            foreach (var p in parameters)
                if (index.TryGetValue(Key(p), out int i)) _groupOf[i] = _groupOf[i] == -1 ? group : -1; // shared by two: unknown
        }
    }

    /// <summary>Off: forward leaves no marks (no probe copies) and <see cref="Arm"/> refuses.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Ranges handed to the callback in the current backward.</summary>
    public int RangesStarted => _nextRange;

    /// <summary>Forgets this window's marks: call before the forward passes whose backward may be armed.</summary>
    public void Reset()
    {
        _window++;
        _probes.Clear();
        Array.Clear(_firstCall);
        Array.Clear(_ready);
        (_clock, _nextRange, _armed) = (0, 0, false);
    }

    /// <summary>
    /// Lets the probes of the next backward hand over ranges (false, doing nothing, while decoder blocks are checkpointed).
    /// </summary>
    public bool Arm()
    {
        _armed = Enabled && !_trunks.Any(t => t.CheckpointBlocks);
        return _armed;
    }

    /// <summary>Hands over the ranges not yet handed over, in order: after backward, when every gradient is final.</summary>
    public void Flush()
    {
        _armed = false;
        while (_nextRange < _ranges.Count) _rangeReady(_nextRange++);
    }

    void Called(int group)
    {
        if (Enabled && _firstCall[group] == 0) _firstCall[group] = ++_clock;
    }

    Tensor Probe(Tensor output)
    {
        if (!Enabled || !is_grad_enabled() || !output.requires_grad) return output;
        _probes.Add(++_clock);
        return GradientReadySignal.apply(this, _window, _probes.Count - 1, output);
    }

    /// <summary>Probe <paramref name="probe"/>'s backward ran: parameters first used after it are final.</summary>
    internal void Signal(int window, int probe)
    {
        if (!_armed || window != _window) return;
        long time = _probes[probe];
        for (int i = 0; i < _ready.Length; i++)
            if (_groupOf[i] >= 0 && _firstCall[_groupOf[i]] > time) _ready[i] = true;
        while (_nextRange < _ranges.Count && Enumerable.Range(_ranges[_nextRange].First, _ranges[_nextRange].Count).All(i => _ready[i]))
            _rangeReady(_nextRange++);
    }

    static IntPtr Key(Tensor parameter) => (IntPtr)TensorMemory.Address(parameter);

    /// <summary>HookableModule's register_forward_pre_hook(Action&lt;Module&gt;), which each of its generic forms declares, or null.</summary>
    static MethodInfo? PreHookRegistration(nn.Module module) =>
        module.GetType().GetMethod("register_forward_pre_hook", [typeof(Action<nn.Module>)]);

    static Action Remover(object? hookRemover) =>
        hookRemover?.GetType().GetMethod("remove") is { } remove ? () => remove.Invoke(hookRemover, null) : () => { };

    public void Dispose()
    {
        foreach (var remove in _removeHooks) remove();
        _removeHooks.Clear();
    }
}

/// <summary>
/// Identity in forward (a copy, so no view of the input escapes a custom function); its backward tells the
/// <see cref="BackwardReadiness"/> that created it, then passes the gradient on unchanged.
/// </summary>
internal sealed class GradientReadySignal : autograd.SingleTensorFunction<GradientReadySignal>
{
    const int TrackerArg = 0, WindowArg = 1, ProbeArg = 2, InputArg = 3;

    public override string Name => nameof(GradientReadySignal);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.save_data("tracker", vars[TrackerArg]);
        ctx.save_data("window", vars[WindowArg]);
        ctx.save_data("probe", vars[ProbeArg]);
        return ((Tensor)vars[InputArg]).clone();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        ((BackwardReadiness)ctx.get_data("tracker")).Signal((int)ctx.get_data("window"), (int)ctx.get_data("probe"));
        return [null!, null!, null!, gradOutput];
    }
}
