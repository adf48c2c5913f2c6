using RlhfSharp.Models.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// One flat float32 buffer holding every trainable parameter's gradient: each parameter's grad is set to a view
/// of it before the first backward, backward accumulates into the views, and a step needs one all-reduce.
/// Zero it with <see cref="Zero"/>: Module.zero_grad() would drop the grads and with them the aliasing.
/// The buffer is padded with zeros to a multiple of <c>slices</c> (ZeRO-1 splits it into equal slices).
/// For all-reduces that overlap backward it is cut, as PyTorch's DistributedDataParallel cuts its gradients, into
/// <see cref="Ranges"/> of about <see cref="DefaultRangeBytes"/> over the parameters in reverse order, the order in which
/// backward finishes them.
/// </summary>
internal sealed unsafe class GradientBucket : IDisposable
{
    /// <summary>DistributedDataParallel's bucket_cap_mb default: 25 MiB.</summary>
    public const long DefaultRangeBytes = 25L << 20;

    readonly List<Tensor> _views = [];
    readonly List<Tensor> _rangeViews = [];

    public Tensor Flat { get; }
    /// <summary>Elements that belong to parameters (the rest is padding).</summary>
    public long Elements { get; }
    public IReadOnlyList<Parameter> Parameters { get; }
    /// <summary>Where each parameter starts in <see cref="Flat"/>.</summary>
    public IReadOnlyList<long> Offsets { get; }

    /// <summary>The parts of <see cref="Flat"/> that are all-reduced one at a time when reduction overlaps backward.</summary>
    public IReadOnlyList<GradientRange> Ranges { get; }

    public GradientBucket(IReadOnlyList<Parameter> parameters, int slices = 1, long rangeBytes = DefaultRangeBytes)
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
        var ranges = new List<GradientRange>();
        foreach (var (first, count) in ReverseRanges(parameters.Select(p => p.numel()).ToList(), Math.Max(1, rangeBytes / sizeof(float))))
        {
            // The last parameters' range also holds the padding after them, so the ranges cover the whole buffer.
            long start = offsets[first], end = first + count == parameters.Count ? padded : offsets[first + count];
            ranges.Add(new GradientRange(first, count, start, end - start));
            _rangeViews.Add(Flat.narrow(0, start, end - start));
        }
        Ranges = ranges;
    }

    /// <summary>
    /// Consecutive parameters taken from the last to the first, a range closing as soon as it holds at least
    /// <paramref name="capElements"/> elements (the first parameters close the last range): (first parameter, count),
    /// in the order they are made, which is the order their all-reduces start.
    /// </summary>
    public static IReadOnlyList<(int First, int Count)> ReverseRanges(IReadOnlyList<long> elements, long capElements)
    {
        var ranges = new List<(int, int)>();
        int end = elements.Count;
        long size = 0;
        for (int i = elements.Count - 1; i >= 0; i--)
        {
            size += elements[i];
            if (size < capElements && i > 0) continue;
            ranges.Add((i, end - i));
            (end, size) = (i, 0);
        }
        return ranges;
    }

    /// <summary><see cref="AllReduceSum(IDistributed)"/> for range <paramref name="index"/> alone; safe on another thread while backward writes other ranges.</summary>
    public void AllReduceSum(IDistributed world, int index)
    {
        if (world.Size == 1) return;
        world.AllReduce(_rangeViews[index]);
    }

    public void Zero() => Flat.zero_();

    /// <summary>
    /// Sums the ranks' gradients: the gradient of the global batch, as each rank's loss was scaled by 1 / ranks before
    /// backward (<see cref="DataParallelOptimizer.Backward"/>).
    /// </summary>
    public void AllReduceSum(IDistributed world)
    {
        if (world.Size == 1) return;
        world.AllReduce(Flat);
    }

    public void Dispose()
    {
        foreach (var view in _views.Concat(_rangeViews)) view.Dispose();
        Flat.Dispose();
    }
}

/// <summary>Parameters [<see cref="First"/>, First + <see cref="Count"/>) of a <see cref="GradientBucket"/>, whose gradients are elements [<see cref="Start"/>, Start + <see cref="Length"/>) of its buffer.</summary>
internal readonly record struct GradientRange(int First, int Count, long Start, long Length);
