using RlhfSharp.Training.Infrastructure;

namespace RlhfSharp.Training;

/// <summary>
/// What every trainer (sft, reward, ppo) shares: optimisation, schedule, batching, evaluation and checkpoint cadence.
/// Init properties so YAML configs bind to them (snake_case keys: learning_rate, max_steps ...); the command-line
/// flag of each is the same words (--learning-rate, --max-steps). What a step and a batch are is the trainer's:
/// <see cref="SupervisedTrainingOptions"/> for sft and reward, <see cref="Ppo.PpoOptions"/> for PPO's iterations.
/// </summary>
public class TrainingOptions
{
    /// <summary>
    /// Steps to run (sft, reward: optimizer steps; ppo: iterations). Default none: sft and reward then run
    /// <see cref="SupervisedTrainingOptions.Epochs"/> passes over the data; PPO's default is 100.
    /// </summary>
    public long? MaxSteps { get; init; }
    /// <summary>Examples per micro-batch (one forward/backward; reward: preference pairs); PPO: prompts rolled out per iteration. On each rank under mpirun. Default 8.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches (PPO: mini-batches) whose gradients add up to one optimizer step. Default 1.</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>Peak learning rate of AdamW, reached after <see cref="WarmupSteps"/>, then decayed along a cosine. Default 5e-5 (PPO: 1e-5).</summary>
    [AlsoKnownAs("lr")]
    public double LearningRate { get; init; } = 5e-5;
    /// <summary>AdamW decoupled weight decay on matrices (not on biases or norm weights). TorchSharp's default is 0, PyTorch's 0.01. Default 0.01.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>AdamW's decay rate of the gradient's running mean. Default 0.9.</summary>
    public double AdamBeta1 { get; init; } = 0.9;
    /// <summary>AdamW's decay rate of the squared gradient's running mean. Default 0.999.</summary>
    public double AdamBeta2 { get; init; } = 0.999;
    /// <summary>AdamW's epsilon, added to the denominator for numerical stability. Default 1e-8.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;
    /// <summary>Steps (PPO: iterations) of linear learning-rate warmup from 0 to the peak before the cosine decay. Default 0.</summary>
    public long WarmupSteps { get; init; }
    /// <summary>Cosine decay ends at this fraction of the peak learning rate, at the last step. Default 0.1.</summary>
    public double MinLearningRateRatio { get; init; } = 0.1;
    /// <summary>Global gradient-norm clip (L2 norm over all trainable parameters) at each optimizer step; 0 turns clipping off. Default 1.0.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>
    /// Tokens per example (reward: per prompt + response, for each response of a pair); longer prompts are cut from
    /// the left, a response too long on its own from the right. PPO: prompt tokens kept per rollout. Default 512.
    /// </summary>
    public int MaxLength { get; init; } = 512;
    /// <summary>Steps (PPO: iterations) between held-out evaluations; the last step is always evaluated. Default 100 (PPO: 10).</summary>
    public long EvalEvery { get; init; } = 100;
    /// <summary>Steps (PPO: iterations) between checkpoints; the last step is always saved. Default 500 (PPO: 10).</summary>
    public long SaveEvery { get; init; } = 500;
    /// <summary>Random seed of the run: data order, dropout, the held-out split (PPO: also sampling and mini-batch order). Default 42.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Freeze the embeddings and the bottom N blocks (cheap fine-tuning of big models); 0 trains every layer. Default 0.</summary>
    public int FreezeBottomLayers { get; init; }
    /// <summary>Held-out fraction split (seeded) from the training data (PPO: prompts) when no evaluation file is given; 0 holds none out. Default 0.05.</summary>
    public double HeldOutFraction { get; init; } = 0.05;
    /// <summary>Skip and count malformed data rows instead of stopping with an error at the first. Default false.</summary>
    public bool SkipBadRows { get; init; }
    /// <summary>
    /// 1 shards the AdamW state over the ranks of a data-parallel (mpirun) run (ZeRO stage 1); 0 keeps a full
    /// copy on every rank. The weights come out the same either way. Default 0.
    /// </summary>
    public int ZeroStage { get; init; }

    /// <summary>Throws a one-line error naming the option (its YAML key) unless <paramref name="ok"/>.</summary>
    protected static void Require(bool ok, string field, string why)
    {
        if (!ok) throw new RlhfException($"option '{field}': {why}");
    }

    public virtual void Validate()
    {
        Require(MaxSteps is null or > 0, "max_steps", "must be positive");
        Require(BatchSize > 0, "batch_size", "must be positive");
        Require(GradientAccumulation > 0, "gradient_accumulation", "must be positive");
        Require(LearningRate > 0, "learning_rate", "must be positive");
        Require(WeightDecay >= 0, "weight_decay", "must not be negative");
        Require(MaxLength >= 2, "max_length", "must be at least 2");
        Require(EvalEvery > 0 && SaveEvery > 0, "eval_every/save_every", "must be positive");
        Require(HeldOutFraction is >= 0 and < 1, "held_out_fraction", "must be in [0, 1)");
        Require(MinLearningRateRatio is >= 0 and <= 1, "min_learning_rate_ratio", "must be in [0, 1]");
        Require(FreezeBottomLayers >= 0, "freeze_bottom_layers", "must not be negative");
        Require(ZeroStage is 0 or 1, "zero_stage", "must be 0 or 1");
    }
}
