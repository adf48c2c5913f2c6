using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Training.Grpo;

/// <summary>
/// What GRPO and RLOO share (TRL's GRPOConfig and RLOOConfig, names kept): each step samples num_generations completions
/// of each prompt, scores them with the reward functions, turns each group's rewards into advantages (the trainer's own
/// rule), then takes num_iterations passes of clipped policy-ratio updates with a k3 KL term to the reference weighted by
/// beta. No value model. From <see cref="TrainingOptions"/>: max_steps counts these steps (100 by default), batch_size the
/// prompts per step (on each rank under mpirun; each brings num_generations completions), gradient_accumulation the
/// mini-batches per optimizer step, max_length the prompt tokens kept (cut from the left); eval_every, save_every and
/// warmup_steps count steps.
/// </summary>
public abstract class GroupSamplingOptions : TrainingOptions
{
    protected GroupSamplingOptions()
    {
        MaxSteps = 100;
        BatchSize = 4;
        LearningRate = 1e-5;
        EvalEvery = 10;
        SaveEvery = 10;
    }

    /// <summary>Completions sampled per prompt: a group, whose rewards are compared with each other. At least 2. Default 8 (rloo: 2).</summary>
    public int NumGenerations { get; init; } = 8;
    /// <summary>Optimisation passes over each step's completions (TRL's num_iterations, mu). Default 1.</summary>
    public int NumIterations { get; init; } = 1;
    /// <summary>Prompts (with all their completions) per mini-batch within a pass, the unit the loss is normalised over; 0: the whole batch. Default 0.</summary>
    public int MiniBatchSize { get; init; }
    /// <summary>The policy loss clips the probability ratio to [1 - epsilon, 1 + epsilon]. Default 0.2.</summary>
    public double Epsilon { get; init; } = 0.2;
    /// <summary>Weight of the k3 KL term to the reference in the loss; 0 loads no reference model at all. Default 0 (rloo: 0.05).</summary>
    public double Beta { get; init; }
    /// <summary>
    /// How token losses make the loss: grpo (the mean over each completion's tokens, then over completions), bnpo (the sum
    /// over the mini-batch's tokens over their number; under mpirun over every rank's, so the split does not change the
    /// update) or dr_grpo (the sum over completions x max_new_tokens). Default bnpo.
    /// </summary>
    public string LossType { get; init; } = GrpoLossType.Bnpo;

    /// <summary>
    /// How completions are sampled (max_new_tokens, TRL's max_completion_length, also bounds the greedy evaluation responses
    /// and is dr_grpo's constant). Its max_new_tokens, temperature, top_k, top_p and stop_sequences are keys and flags of the
    /// trainer itself; each step's seed is derived from <see cref="TrainingOptions.Seed"/> (its own Seed is not used).
    /// Default <see cref="PpoOptions.RolloutSampling"/>: 64 new tokens, temperature 1, no top-k or top-p cut, stop at "\n\nHuman:".
    /// </summary>
    [Flatten(nameof(SamplingOptions.MaxNewTokens), nameof(SamplingOptions.Temperature), nameof(SamplingOptions.TopK),
        nameof(SamplingOptions.TopP), nameof(SamplingOptions.StopSequences))]
    public SamplingOptions Sampling { get; init; } = PpoOptions.RolloutSampling;

    /// <summary>Held-out prompts scored at each evaluation (greedy decoding); the prompts themselves come from a file (--eval-prompts). Default 32.</summary>
    public int EvalPromptCount { get; init; } = 32;
    /// <summary>Every this many steps (and at the first), sample prompts, completions and rewards are printed and written to samples.md. Default 10.</summary>
    public int SamplesEvery { get; init; } = 10;

    /// <summary>The trainer's name: its command, and the name in progress and run files ("grpo", "rloo").</summary>
    internal abstract string Method { get; }

    /// <summary>The advantage of each completion of one group, from the group's rewards.</summary>
    internal abstract double[] Advantages(IReadOnlyList<double> groupRewards);

    public override void Validate()
    {
        base.Validate();
        Require(NumGenerations >= 2, nameof(NumGenerations), NumGenerations, "must be at least 2: a completion's advantage compares it with the others of its group");
        Require(NumIterations > 0, nameof(NumIterations), NumIterations, "must be positive");
        Require(MiniBatchSize >= 0, nameof(MiniBatchSize), MiniBatchSize, "must be 0 (the whole batch) or more");
        Require(GradientAccumulation == 1 || MiniBatchSize > 0, nameof(GradientAccumulation), GradientAccumulation,
            "adds up the gradients of several mini-batches, so it needs mini_batch_size (0 makes the whole batch one mini-batch)");
        Require(Epsilon is > 0 and < 1, nameof(Epsilon), Epsilon, "must be in (0, 1)");
        Require(NotNegative(Beta), nameof(Beta), Beta, "must be 0 (no KL term, no reference model) or more");
        Require(GrpoLossType.All.Contains(LossType), nameof(LossType), $"must be {string.Join(", ", GrpoLossType.All.SkipLast(1))} or {GrpoLossType.All[^1]}, not '{LossType}'");
        foreach (var (property, value, rule) in Sampling.Problems()) Require(false, property, value, rule);
        Require(EvalPromptCount > 0, nameof(EvalPromptCount), EvalPromptCount, "must be positive");
        Require(SamplesEvery > 0, nameof(SamplesEvery), SamplesEvery, "must be positive");
    }

    /// <summary>
    /// As for every trainer, except: prompts are batched by their text, so max_length only changes how much of each
    /// prompt the policy sees (a warning); the number of held-out prompts and the sample cadence do not touch the weights (free).
    /// </summary>
    public override ResumeRule OnResume(string property) => property switch
    {
        nameof(MaxLength) => ResumeRule.Warn,
        nameof(EvalPromptCount) or nameof(SamplesEvery) => ResumeRule.Free,
        _ => base.OnResume(property),
    };

    /// <summary>Prompt tokens kept (cut from the left): max_length, and what the model's context leaves beside max_new_tokens.</summary>
    public int PromptBudget(ContextWindow context) => Math.Min(MaxLength, context.PromptRoom(Sampling.MaxNewTokens));
}

/// <summary>
/// GRPO (Shao et al. 2024): a completion's advantage is its reward minus its group's mean, over the group's standard
/// deviation (+ 1e-4), or with scale_rewards false not divided (Dr. GRPO, Liu et al. 2025). Defaults as TRL's GRPOConfig
/// where they apply (num_generations 8, beta 0, epsilon 0.2, num_iterations 1); see <see cref="GroupSamplingOptions"/>.
/// </summary>
public sealed class GrpoOptions : GroupSamplingOptions
{
    /// <summary>Divide each group's centred rewards by the group's standard deviation; false: do not (Dr. GRPO). Default true.</summary>
    public bool ScaleRewards { get; init; } = true;

    internal override string Method => "grpo";

    internal override double[] Advantages(IReadOnlyList<double> groupRewards) => GrpoMath.GroupRelativeAdvantages(groupRewards, ScaleRewards);
}

/// <summary>
/// RLOO, REINFORCE leave-one-out (Ahmadian et al. 2024): a completion's advantage is its reward minus the mean reward of
/// the other completions of its group. Defaults as TRL's RLOOConfig where they apply (num_generations 2, beta 0.05); the
/// KL to the reference is the k3 term of the loss, as GRPO's (TRL's RLOO subtracts beta x the sequence's log-ratio from
/// the reward instead). See <see cref="GroupSamplingOptions"/>.
/// </summary>
public sealed class RlooOptions : GroupSamplingOptions
{
    public RlooOptions()
    {
        NumGenerations = 2;
        Beta = 0.05;
    }

    internal override string Method => "rloo";

    internal override double[] Advantages(IReadOnlyList<double> groupRewards) => GrpoMath.LeaveOneOutAdvantages(groupRewards);
}
