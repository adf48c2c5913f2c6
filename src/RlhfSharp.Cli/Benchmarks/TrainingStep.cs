using System.Diagnostics;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Sft;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// One SFT optimizer step (forward, next-token cross-entropy on every position, backward, AdamW with the
/// trainer's defaults) through the objective and optimizer the trainer itself uses, on the benchmark batch.
/// </summary>
public sealed class TrainingStep : IDisposable
{
    readonly SftObjective _objective;
    readonly AdamW _optimizer;
    readonly List<EncodedSft> _batch;

    public TrainingStep(CausalLanguageModel model, int batch, int sequence)
    {
        Model = model;
        _objective = new SftObjective(model);
        _optimizer = OptimizerFactory.AdamW(model, new SftOptions());
        _batch = BenchInputs.TrainingIds(batch, sequence, model.Config.VocabSize)
            .Select(ids => new EncodedSft(ids, ids, 0, Truncation.None)).ToList();
        model.train();
    }

    public CausalLanguageModel Model { get; }

    public long Parameters => Model.parameters().Sum(p => p.numel());

    public long TokensPerStep => _batch.Sum(e => (long)e.InputIds.Length);

    /// <summary>Runs one step; returns its wall time in seconds and the loss before the update.</summary>
    public (double Seconds, double Loss) Run()
    {
        var watch = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var (loss, _) = _objective.Loss(_batch);
        loss.backward();
        _optimizer.step();
        double value = loss.item<float>();
        return (watch.Elapsed.TotalSeconds, value);
    }

    /// <summary>The loss of the batch under the current weights, without a gradient.</summary>
    public double Loss()
    {
        using var noGrad = no_grad();
        var (loss, _) = _objective.Loss(_batch);
        using (loss) return loss.item<float>();
    }

    public void Dispose() => _optimizer.Dispose();
}
