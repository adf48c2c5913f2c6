using RlhfSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// The optimizer step of a data-parallel run, the same on every rank: zero the gradients, (backward), average
/// them over the ranks, clip, step. In one process without ZeRO it is exactly the plain AdamW path
/// (zero_grad, step). With several ranks the gradients live in one <see cref="GradientBucket"/> that a single
/// all-reduce sums, each rank's loss having been divided by the number of ranks before backward, as one process with
/// that many micro-batches divides each one's: with the all-reduce's sums in rank order, W ranks have the bits of one
/// process accumulating their W micro-batches; with <see cref="TrainingOptions.ZeroStage"/> 1 the AdamW state is sharded
/// (<see cref="ShardedAdamW"/>). When the world overlaps reduction with backward (<see cref="IDistributed.OverlapsGradientReduction"/>),
/// the step's last <see cref="Backward"/> all-reduces the bucket's ranges on a communication thread as backward finishes
/// them (<see cref="BackwardReadiness"/>), as DistributedDataParallel does; the averaged gradients have the same bits.
/// </summary>
public sealed class DataParallelOptimizer : IDisposable
{
    readonly IDistributed _world;
    readonly List<Parameter> _trainable;
    readonly AdamW? _adamW;
    readonly GradientBucket? _bucket;
    readonly ShardedAdamW? _sharded;
    readonly BackwardReadiness? _readiness;
    readonly CommunicationThread? _communication;
    bool _reduced;

    /// <param name="rangeBytes">Size of the gradient ranges all-reduced one at a time during backward (DDP's bucket_cap_mb);
    /// by default the world's (<see cref="IDistributed.GradientRangeBytes"/>).</param>
    public DataParallelOptimizer(nn.Module model, TrainingOptions options, IDistributed world, long? rangeBytes = null)
    {
        _world = world;
        _trainable = model.parameters().Where(p => p.requires_grad).ToList();
        if (options.ZeroStage == 1)
        {
            if (_trainable.Count == 0) throw new RlhfException("no trainable parameters (are all layers frozen?)");
            _bucket = new GradientBucket(_trainable, world.Size, rangeBytes ?? world.GradientRangeBytes);
            _sharded = new ShardedAdamW(world, _bucket, options);
        }
        else
        {
            _adamW = OptimizerFactory.AdamW(model, options);
            if (world.Size > 1) _bucket = new GradientBucket(_trainable, rangeBytes: rangeBytes ?? world.GradientRangeBytes);
        }
        if (_bucket is not null && world.Size > 1 && world.OverlapsGradientReduction)
        {
            var bucket = _bucket;
            _communication = new CommunicationThread();
            _readiness = new BackwardReadiness(model, _trainable, bucket.Ranges, range =>
            {
                if (range == 0) _firstStart = _clock.Elapsed.TotalSeconds;
                _communication.Post(() => bucket.AllReduceSum(world, range));
            });
        }
    }

    readonly System.Diagnostics.Stopwatch _clock = new();
    double _firstStart;

    /// <summary>Whether the step's last backward all-reduces during backward (possible only when the world allows it; the bench switches it).</summary>
    public bool Overlap
    {
        get => _readiness?.Enabled ?? false;
        set
        {
            if (_readiness is not null) _readiness.Enabled = value;
        }
    }

    /// <summary>What the last overlapped backward did; zeros when it was not overlapped.</summary>
    public OverlapReport LastOverlap { get; private set; }

    /// <summary>Seconds the last step waited for its gradient all-reduce after backward (all of it when not overlapped).</summary>
    public double LastExposedAllReduceSeconds { get; private set; }

    /// <summary>Gradient ranges one step all-reduces (1 when not overlapped: the whole buffer at once).</summary>
    public int GradientRanges => Overlap ? _bucket!.Ranges.Count : 1;

    /// <summary>
    /// loss.backward(), accumulating into the gradients. The step's last one (<paramref name="lastInStep"/>) may overlap
    /// the all-reduce: ranges whose gradients are final are reduced on the communication thread while backward goes on,
    /// the rest after it, and it returns once all are averaged (so no MPI call of this thread meets one of the other).
    /// </summary>
    public void Backward(Tensor loss, bool lastInStep = true)
    {
        // The all-reduce sums; the mean over the ranks comes from here, where one process's accumulation divides too.
        using var share = _world.Size > 1 ? loss / _world.Size : null;
        var scaled = share ?? loss;
        if (_readiness is null || !lastInStep || !_readiness.Arm())
        {
            scaled.backward();
            _readiness?.Reset();
            return;
        }
        _clock.Restart();
        _firstStart = double.NaN;
        scaled.backward();
        double backward = _clock.Elapsed.TotalSeconds;
        int duringBackward = _readiness.RangesStarted;
        _readiness.Flush();
        _communication!.WaitAll();
        LastOverlap = new OverlapReport(_bucket!.Ranges.Count, duringBackward, backward, _firstStart, _clock.Elapsed.TotalSeconds - backward);
        LastExposedAllReduceSeconds = LastOverlap.ExposedSeconds;
        _readiness.Reset();
        _reduced = true;
    }

    /// <summary>Optimizer-state bytes on this rank, and what an unsharded AdamW holds (equal without ZeRO).</summary>
    public (long ThisRank, long Unsharded) StateBytes
    {
        get
        {
            if (_sharded is not null) return _sharded.StateBytes;
            long bytes = 2L * _trainable.Sum(p => p.numel()) * sizeof(float);
            return (bytes, bytes);
        }
    }

    public void SetLearningRate(double learningRate)
    {
        if (_sharded is not null) _sharded.LearningRate = learningRate;
        else OptimizerFactory.SetLearningRate(_adamW!, learningRate);
    }

    public void ZeroGrad()
    {
        if (_bucket is not null) _bucket.Zero();
        else _adamW!.zero_grad();
        _reduced = false;
        _readiness?.Reset();
    }

    /// <summary>Averages the gradients over the ranks, then clips their global norm (when <paramref name="maxNorm"/> &gt; 0) and returns it (NaN unclipped).</summary>
    public double ReduceAndClip(double maxNorm)
    {
        if (!_reduced && _bucket is not null)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            _bucket.AllReduceSum(_world);
            LastExposedAllReduceSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        _reduced = false;
        return maxNorm > 0 ? nn.utils.clip_grad_norm_(_trainable, maxNorm) : double.NaN;
    }

    public void Step()
    {
        if (_sharded is not null) _sharded.Step();
        else _adamW!.step();
    }

    /// <summary>
    /// What a checkpoint stores of the optimizer: a collective with ZeRO (the shards are gathered), so every rank
    /// calls it at the same point; only rank 0 then runs the writer it returns.
    /// </summary>
    public Action<string> StateWriter() => _sharded is not null
        ? _sharded.GatherState()
        : directory => _adamW!.save_state_dict(Path.Combine(directory, TrainingCheckpoints.OptimizerFileName));

    /// <summary>Loads the optimizer state of a checkpoint saved with the same ZeRO stage (any number of ranks).</summary>
    public void LoadState(string checkpoint)
    {
        bool sharded = File.Exists(Path.Combine(checkpoint, ShardedAdamW.StateFileName));
        if (sharded != (_sharded is not null))
            throw new RlhfException($"{checkpoint}: the optimizer state was saved {(sharded ? "with" : "without")} ZeRO-1; resume with zero_stage {(sharded ? 1 : 0)}");
        if (_sharded is not null) _sharded.Load(checkpoint);
        else
        {
            string path = Path.Combine(checkpoint, TrainingCheckpoints.OptimizerFileName);
            if (!File.Exists(path)) throw new RlhfException($"{path}: optimizer state missing from the checkpoint");
            _adamW!.load_state_dict(path);
        }
    }

    public void Dispose()
    {
        _readiness?.Dispose();
        _communication?.Dispose();
        _adamW?.Dispose();
        _sharded?.Dispose();
        _bucket?.Dispose();
    }
}

/// <summary>
/// One overlapped backward: of <paramref name="Ranges"/>, how many started reducing during it; its seconds; when (seconds
/// into it) the first range started, NaN if none did; and the seconds after it until every range was averaged (the
/// communication backward did not hide).
/// </summary>
public readonly record struct OverlapReport(int Ranges, int StartedDuringBackward, double BackwardSeconds, double FirstStartSeconds, double ExposedSeconds);
