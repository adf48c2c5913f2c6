using RlhfSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// The optimizer step of a data-parallel run, the same on every rank: zero the gradients, (backward), average
/// them over the ranks, clip, step. In one process without ZeRO it is exactly the plain AdamW path
/// (zero_grad, step). With several ranks the gradients live in one <see cref="GradientBucket"/> that a single
/// all-reduce averages; with <see cref="TrainingOptions.ZeroStage"/> 1 the AdamW state is sharded
/// (<see cref="ShardedAdamW"/>).
/// </summary>
public sealed class DataParallelOptimizer : IDisposable
{
    readonly IDistributed _world;
    readonly List<Parameter> _trainable;
    readonly AdamW? _adamW;
    readonly GradientBucket? _bucket;
    readonly ShardedAdamW? _sharded;

    public DataParallelOptimizer(nn.Module model, TrainingOptions options, IDistributed world)
    {
        _world = world;
        _trainable = model.parameters().Where(p => p.requires_grad).ToList();
        if (options.ZeroStage == 1)
        {
            if (_trainable.Count == 0) throw new RlhfException("no trainable parameters (are all layers frozen?)");
            _bucket = new GradientBucket(_trainable, world.Size);
            _sharded = new ShardedAdamW(world, _bucket, options);
        }
        else
        {
            _adamW = OptimizerFactory.AdamW(model, options);
            if (world.Size > 1) _bucket = new GradientBucket(_trainable);
        }
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
    }

    /// <summary>Averages the gradients over the ranks, then clips their global norm (when <paramref name="maxNorm"/> &gt; 0) and returns it (NaN unclipped).</summary>
    public double ReduceAndClip(double maxNorm)
    {
        _bucket?.AllReduceMean(_world);
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
        _adamW?.Dispose();
        _sharded?.Dispose();
        _bucket?.Dispose();
    }
}
