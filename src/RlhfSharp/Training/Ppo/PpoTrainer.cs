using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Ppo;

/// <summary>The outcome of a PPO run. <see cref="History"/> holds the whole run's rows (on rank 0, those before a resume read back from metrics.jsonl).</summary>
public sealed record PpoSummary(long Iterations, IReadOnlyList<IReadOnlyDictionary<string, double>> History, double? BestEvalReward);

/// <summary>
/// PPO (trlx-equivalent): each iteration rolls out a batch of prompts, turns it into KL-penalised advantages,
/// then takes ppo_epochs passes of clipped policy and value updates over mini-batches (gradient_accumulation
/// mini-batches to an optimizer step), and adapts the KL coefficient. Metrics go to metrics.jsonl and TensorBoard, the reward curve to reward_curve.png/.svg,
/// samples to samples.md; checkpoints hold the policy, value head, optimizer, KL coefficient, reward
/// statistics and position, so --resume continues exactly. The best policy by held-out reward is kept in best/.
/// <see cref="TrainingRun"/> owns the run around the iterations (<see cref="PpoIterations"/>); messages, sample tables and
/// progress go to <paramref name="progress"/> (default: nowhere).
/// <para>
/// Data parallel under <c>mpirun</c> (<paramref name="world"/>): rank r rolls out the prompt batch at global
/// position MicroBatches + r with its own sampling seed, so each iteration covers ranks x batch_size prompts;
/// score scaling, advantage whitening and the KL estimate use all ranks' statistics, gradients are averaged in
/// one all-reduce per optimizer step, and the logged metrics are the world's. Only rank 0 writes files.
/// </para>
/// </summary>
public sealed class PpoTrainer(PpoModels models, PpoOptions options, string outputDirectory, IProgressSink? progress = null, IDistributed? world = null)
{
    readonly IDistributed _world = world ?? SingleProcess.Instance;
    TrainingRun? _run;

    /// <summary>Iterations done so far in the run (including those before a resume); safe to read from another thread.</summary>
    public long CompletedIterations => Volatile.Read(ref _run)?.CompletedSteps ?? 0;

    /// <param name="stopAtStep">Stop after this iteration with a checkpoint, as an interrupted run would; the final policy is then not written.</param>
    public PpoSummary Run(IReadOnlyList<string> prompts, IReadOnlyList<string> evalPrompts, bool resume, long? stopAtStep = null) =>
        Run(Records(prompts), Records(evalPrompts), resume, stopAtStep);

    /// <summary>PPO on prompt rows: the reward function sees each row's fields (<see cref="PromptRecord.Fields"/>, e.g. a
    /// reference answer) beside the response.</summary>
    /// <param name="stopAtStep">Stop after this iteration with a checkpoint, as an interrupted run would; the final policy is then not written.</param>
    public PpoSummary Run(IReadOnlyList<PromptRecord> prompts, IReadOnlyList<PromptRecord> evalPrompts, bool resume, long? stopAtStep = null)
    {
        options.Validate();
        if (prompts.Count == 0) throw new RlhfException("no prompts");
        var policy = models.Policy.Policy;
        LayerFreezing.FreezeBottom(policy, policy.Config, options.FreezeBottomLayers);
        GradientCheckpointing.Apply(models.Policy, options, progress, _world);
        var iterations = new PpoIterations(models, options, outputDirectory, progress ?? SilentProgress.Instance, _world, prompts, evalPrompts); // it prints on rank 0 only
        var run = new TrainingRun(iterations, options, options.MaxSteps!.Value, outputDirectory, progress, _world);
        Volatile.Write(ref _run, run);
        var result = run.Run(resume, stopAtStep);
        return new PpoSummary(result.State.Step, result.History, PpoIterations.BestEvalReward(result.State));
    }

    static List<PromptRecord> Records(IReadOnlyList<string> prompts) => prompts.Select(p => new PromptRecord(p, null)).ToList();
}
