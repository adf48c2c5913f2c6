using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Grpo;

/// <summary>The outcome of a GRPO or RLOO run. <see cref="History"/> holds the whole run's rows (on rank 0, those before a resume read back from metrics.jsonl).</summary>
public sealed record GrpoSummary(long Steps, IReadOnlyList<IReadOnlyDictionary<string, double>> History, double? BestEvalReward);

/// <summary>
/// GRPO or RLOO, as <paramref name="options"/> say (<see cref="GrpoOptions"/>, <see cref="RlooOptions"/>): each step samples
/// num_generations completions of each of batch_size prompts, scores them with the reward functions, turns each prompt's
/// group of rewards into advantages (GRPO: against the group's mean and std; RLOO: against the mean of the others), then
/// takes num_iterations passes of clipped policy-ratio updates with beta x the k3 KL to the reference as a loss term. No
/// value model; with beta 0 no reference either. Metrics (TRL's names) go to metrics.jsonl and TensorBoard, the reward curve
/// to reward_curve.png/.svg, samples to samples.md; checkpoints hold the policy (with LoRA: its adapters) and the optimizer,
/// so --resume continues exactly. The best policy by held-out reward (greedy completions) is kept in best/.
/// <see cref="TrainingRun"/> owns the run around the steps (<see cref="GrpoSteps"/>).
/// <para>
/// Data parallel under <c>mpirun</c> (<paramref name="world"/>): each step's world batch of batch_size x ranks prompts is
/// cut into one slice per rank; every group is sampled from the stream its place in the world batch gives it, gradients are
/// averaged in one all-reduce per optimizer step, and the logged metrics are the world's. Only rank 0 writes files.
/// </para>
/// </summary>
public sealed class GrpoTrainer(GrpoModels models, GroupSamplingOptions options, string outputDirectory, IProgressSink? progress = null, IDistributed? world = null)
{
    readonly IDistributed _world = world ?? SingleProcess.Instance;
    TrainingRun? _run;

    /// <summary>Steps done so far in the run (including those before a resume); safe to read from another thread.</summary>
    public long CompletedSteps => Volatile.Read(ref _run)?.CompletedSteps ?? 0;

    /// <param name="prompts">Training prompts; their fields reach the reward functions (<see cref="Rewards.RewardSample.Fields"/>).</param>
    /// <param name="evalPrompts">Held-out prompts scored at each evaluation (the first eval_prompt_count of them); none: no evaluation.</param>
    /// <param name="stopAtStep">Stop after this step with a checkpoint, as an interrupted run would; the final policy is then not written.</param>
    public GrpoSummary Run(IReadOnlyList<PromptRecord> prompts, IReadOnlyList<PromptRecord> evalPrompts, bool resume, long? stopAtStep = null)
    {
        options.Validate();
        if (prompts.Count == 0) throw new RlhfException("no prompts");
        if (options.Beta > 0 && models.Reference is null) throw new RlhfException($"beta {options.Beta} needs a reference model (beta 0 needs none)");
        var policy = models.Policy;
        LayerFreezing.FreezeBottom(policy, policy.Config, options.FreezeBottomLayers);
        GradientCheckpointing.Apply(policy, options, progress, _world);
        var steps = new GrpoSteps(models, options, outputDirectory, progress ?? SilentProgress.Instance, _world, prompts, evalPrompts);
        var run = new TrainingRun(steps, options, options.MaxSteps!.Value, outputDirectory, progress, _world);
        Volatile.Write(ref _run, run);
        var result = run.Run(resume, stopAtStep);
        return new GrpoSummary(result.State.Step, result.History, result.State.BestEvalReward);
    }
}
