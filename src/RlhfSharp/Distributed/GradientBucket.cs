using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// One flat float32 buffer holding every trainable parameter's gradient: each parameter's grad is set to a view
/// of it before the first backward, backward accumulates into the views, and a step needs one all-reduce.
/// Zero it with <see cref="Zero"/>: Module.zero_grad() would drop the grads and with them the aliasing.
/// The buffer is padded with zeros to a multiple of <c>slices</c> (ZeRO-1 splits it into equal slices).
/// </summary>
internal sealed class GradientBucket : IDisposable
{
    readonly List<Tensor> _views = [];

    public Tensor Flat { get; }
    /// <summary>Elements that belong to parameters (the rest is padding).</summary>
    public long Elements { get; }
    public IReadOnlyList<Parameter> Parameters { get; }
    /// <summary>Where each parameter starts in <see cref="Flat"/>.</summary>
    public IReadOnlyList<long> Offsets { get; }

    public GradientBucket(IReadOnlyList<Parameter> parameters, int slices = 1)
    {
        if (parameters.FirstOrDefault(p => p.dtype != ScalarType.Float32 || p.device_type != DeviceType.CPU) is { } odd)
            throw new RlhfException($"data-parallel training needs float32 CPU parameters, not {odd.dtype} on {odd.device_type}");
        Parameters = parameters;
        var offsets = new List<long>();
        long total = 0;
        foreach (var p in parameters) { offsets.Add(total); total += p.numel(); }
        Offsets = offsets;
        Elements = total;
        long padded = (total + slices - 1) / slices * slices;
        Flat = zeros(padded, ScalarType.Float32);
        for (int i = 0; i < parameters.Count; i++)
        {
            var view = Flat.narrow(0, offsets[i], parameters[i].numel()).view(parameters[i].shape);
            parameters[i].grad = view;
            _views.Add(view);
        }
    }

    public void Zero() => Flat.zero_();

    /// <summary>Sums the ranks' gradients and divides by the number of ranks: the gradient of the global batch.</summary>
    public void AllReduceMean(IDistributed world)
    {
        if (world.Size == 1) return;
        world.AllReduce(Flat);
        Flat.div_(world.Size);
    }

    public void Dispose()
    {
        foreach (var view in _views) view.Dispose();
        Flat.Dispose();
    }
}
