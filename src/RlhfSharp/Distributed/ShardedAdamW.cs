using System.Globalization;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Training;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// ZeRO stage 1 (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion Parameter
/// Models"): the flat parameter space is cut into one equal slice per rank, and each rank keeps AdamW's moments
/// for its slice only, updates those parameters from the all-reduced gradient bucket, and an all-gather gives
/// every rank the whole updated model. The update is TorchSharp's AdamW element by element (decoupled weight
/// decay on matrices only, bias-corrected moments), so it matches the unsharded optimizer.
/// After a step the bucket holds parameters, not gradients, until the next <see cref="GradientBucket.Zero"/>.
/// </summary>
internal sealed class ShardedAdamW : IDisposable
{
    public const string StateFileName = "optimizer_zero1.safetensors";

    readonly IDistributed _world;
    readonly GradientBucket _bucket;
    readonly TrainingOptions _options;
    readonly long _start, _slice;
    readonly Tensor _expAvg, _expAvgSq, _decayed;
    long _step;

    public double LearningRate { get; set; }

    public ShardedAdamW(IDistributed world, GradientBucket bucket, TrainingOptions options)
    {
        (_world, _bucket, _options) = (world, bucket, options);
        LearningRate = options.LearningRate;
        _slice = bucket.Flat.NumberOfElements / world.Size;
        _start = world.Rank * _slice;
        _expAvg = zeros(_slice);
        _expAvgSq = zeros(_slice);
        // Which elements of the slice belong to matrices (decayed), as OptimizerFactory groups them.
        _decayed = zeros(_slice, ScalarType.Bool);
        foreach (var (p, offset, local, length) in Segments())
            if (p.dim() >= 2) _decayed.narrow(0, local, length).fill_(true);
    }

    /// <summary>Bytes of optimizer state this rank holds, and what an unsharded AdamW would hold.</summary>
    public (long Sharded, long Unsharded) StateBytes => (2 * _slice * sizeof(float), 2 * _bucket.Elements * sizeof(float));

    /// <summary>Updates this rank's slice from the (already all-reduced) gradients, then all-gathers the parameters.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _step++;
        double lr = LearningRate, beta1 = _options.AdamBeta1, beta2 = _options.AdamBeta2;
        var grad = _bucket.Flat.narrow(0, _start, _slice);
        var param = zeros(_slice);
        foreach (var (p, offset, local, length) in Segments()) param.narrow(0, local, length).copy_(p.detach().view(-1).narrow(0, offset, length));

        // The same element-wise operations as TorchSharp's AdamW.step.
        param.mul_(where(_decayed, tensor((float)(1 - lr * _options.WeightDecay)), tensor(1f)));
        double biasCorrection1 = 1 - Math.Pow(beta1, _step), biasCorrection2 = 1 - Math.Pow(beta2, _step);
        _expAvg.mul_(beta1).add_(grad, alpha: 1 - beta1);
        _expAvgSq.mul_(beta2).addcmul_(grad, grad, value: 1 - beta2);
        var denominator = (_expAvgSq.sqrt() / Math.Sqrt(biasCorrection2)).add_(_options.AdamEpsilon);
        param.addcdiv_(_expAvg, denominator, value: -lr / biasCorrection1);

        grad.copy_(param);
        _world.AllGather(_bucket.Flat);
        for (int i = 0; i < _bucket.Parameters.Count; i++)
        {
            var p = _bucket.Parameters[i];
            p.detach().copy_(_bucket.Flat.narrow(0, _bucket.Offsets[i], p.numel()).view(p.shape));
        }
    }

    /// <summary>
    /// Gathers the whole state (a collective: every rank calls it) and returns, on rank 0, the writer of
    /// <see cref="StateFileName"/> (elsewhere a no-op): the moments of all parameters, flat, in bucket order,
    /// and the step. The file does not depend on the number of ranks, so a run resumes on any number.
    /// </summary>
    public Action<string> GatherState()
    {
        var gathered = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, moment) in new[] { ("exp_avg", _expAvg), ("exp_avg_sq", _expAvgSq) })
        {
            var all = zeros(_bucket.Flat.NumberOfElements);
            all.narrow(0, _start, _slice).copy_(moment);
            _world.AllGather(all);
            gathered.Add(new(name, all));
        }
        if (!_world.IsRoot)
        {
            foreach (var (_, all) in gathered) all.Dispose();
            return _ => { };
        }
        string step = _step.ToString(CultureInfo.InvariantCulture);
        return directory =>
        {
            try
            {
                SafetensorsFile.Save(Path.Combine(directory, StateFileName),
                    gathered.Select(g => new KeyValuePair<string, Tensor>(g.Key, g.Value.narrow(0, 0, _bucket.Elements))),
                    new Dictionary<string, string> { ["step"] = step, ["format"] = "zero1" });
            }
            finally
            {
                foreach (var (_, all) in gathered) all.Dispose();
            }
        };
    }

    /// <summary>Loads this rank's slice of a saved state.</summary>
    public void Load(string checkpoint)
    {
        string path = Path.Combine(checkpoint, StateFileName);
        var header = SafetensorsFile.ReadHeader(path);
        long owned = Math.Max(0, Math.Min(_slice, _bucket.Elements - _start));
        foreach (var (name, moment) in new[] { ("exp_avg", _expAvg), ("exp_avg_sq", _expAvgSq) })
        {
            if (!header.Tensors.TryGetValue(name, out var entry) || entry.Shape.Length != 1 || entry.Shape[0] != _bucket.Elements)
                throw new RlhfException($"{path}: no {name} of {_bucket.Elements} elements (was it saved for another model or other frozen layers?)");
            using var all = SafetensorsFile.LoadTensor(path, entry, ScalarType.Float32);
            moment.zero_();
            if (owned > 0) moment.narrow(0, 0, owned).copy_(all.narrow(0, _start, owned));
        }
        _step = long.Parse(header.Metadata["step"], CultureInfo.InvariantCulture);
    }

    /// <summary>The parts of parameters inside this rank's slice: (parameter, offset in it, offset in the slice, length).</summary>
    IEnumerable<(Tensor Parameter, long Offset, long Local, long Length)> Segments()
    {
        for (int i = 0; i < _bucket.Parameters.Count; i++)
        {
            long begin = _bucket.Offsets[i], end = begin + _bucket.Parameters[i].numel();
            long from = Math.Max(begin, _start), to = Math.Min(end, _start + _slice);
            if (from < to) yield return (_bucket.Parameters[i], from - begin, from - _start, to - from);
        }
    }

    public void Dispose()
    {
        _expAvg.Dispose();
        _expAvgSq.Dispose();
        _decayed.Dispose();
    }
}
