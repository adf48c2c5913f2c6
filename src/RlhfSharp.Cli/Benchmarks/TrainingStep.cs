using System.Diagnostics;
using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Training.Sft;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// One SFT optimizer step (forward, next-token cross-entropy on every position, backward, AdamW with the
/// trainer's defaults, no clipping, as the PyTorch reference steps) through the objective and optimizer the trainer
/// itself uses, on the benchmark batch. Given an MPI <c>world</c>, each rank steps on the batch and the gradients are
/// averaged as in data-parallel training (ZeRO-1 with <c>zeroStage</c> 1); alone it is plain AdamW.
/// </summary>
internal sealed class TrainingStep : IDisposable
{
    readonly SftObjective _objective;
    readonly DataParallelOptimizer _optimizer;
    readonly List<EncodedSft> _batch;

    public TrainingStep(CausalLanguageModel model, int batch, int sequence, IDistributed? world = null, int zeroStage = 0)
        : this(model, BenchInputs.TrainingIds(batch, sequence, model.Config.VocabSize), world, zeroStage) { }

    /// <summary>A step on these token rows (all of one length), every position trained.</summary>
    public TrainingStep(CausalLanguageModel model, IReadOnlyList<int[]> rows, IDistributed? world = null, int zeroStage = 0)
        : this(model, rows.Select(ids => new EncodedSft(ids, ids, 0, Truncation.None)).ToList(), world, zeroStage) { }

    /// <summary>Steps on <paramref name="batch"/> (encoded examples: their labels say which tokens carry the loss).
    /// Only parameters that require a gradient are optimised (a LoRA model's adapters).</summary>
    public TrainingStep(CausalLanguageModel model, List<EncodedSft> batch, IDistributed? world = null, int zeroStage = 0)
    {
        Model = model;
        _objective = new SftObjective(model);
        world ??= SingleProcess.Instance;
        _optimizer = new DataParallelOptimizer(model, new SftOptions { ZeroStage = zeroStage }, world);
        ParameterSync.Broadcast(world, model.parameters());
        _batch = batch;
        model.train();
    }

    public CausalLanguageModel Model { get; }

    /// <summary>The data-parallel optimizer the step runs (its all-reduce overlap can be switched between steps).</summary>
    public DataParallelOptimizer Optimizer => _optimizer;

    public long Parameters => Model.parameters().Sum(p => p.numel());

    public long TokensPerStep => _batch.Sum(e => (long)e.InputIds.Length);

    /// <summary>Optimizer-state bytes on this rank, and what an unsharded AdamW holds.</summary>
    public (long ThisRank, long Unsharded) OptimizerStateBytes => _optimizer.StateBytes;

    /// <summary>Runs one step; returns its wall time in seconds and the loss before the update.</summary>
    public (double Seconds, double Loss) Run() => Run(_batch);

    /// <summary>Runs one step on <paramref name="batch"/> instead of the step's own batch (successive batches of real data).</summary>
    public (double Seconds, double Loss) Run(IReadOnlyList<EncodedSft> batch)
    {
        var watch = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        _optimizer.ZeroGrad();
        var (loss, _) = _objective.Loss(batch);
        _optimizer.Backward(loss);
        _optimizer.ReduceAndClip(maxNorm: 0);
        _optimizer.Step();
        double value = loss.item<float>();
        return (watch.Elapsed.TotalSeconds, value);
    }

    /// <summary>The loss of the batch under the current weights, without a gradient.</summary>
    public double Loss() => Loss(_batch);

    /// <summary>The loss of <paramref name="batch"/> under the current weights, without a gradient.</summary>
    public double Loss(IReadOnlyList<EncodedSft> batch)
    {
        using var noGrad = no_grad();
        var (loss, _) = _objective.Loss(batch);
        using (loss) return loss.item<float>();
    }

    public void Dispose() => _optimizer.Dispose();
}
