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
    /// <summary>Steps to run (sft, reward: optimizer steps, by default epochs over the data; ppo: iterations).</summary>
    public long? MaxSteps { get; init; }
    /// <summary>Examples per micro-batch (one forward/backward); PPO: prompts rolled out per iteration.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches (PPO: mini-batches) whose gradients add up to one optimizer step.</summary>
    public int GradientAccumulation { get; init; } = 1;
    [AlsoKnownAs("lr")]
    public double LearningRate { get; init; } = 5e-5;
    /// <summary>AdamW decoupled weight decay on matrices (not on biases or norm weights). TorchSharp's default is 0, PyTorch's 0.01.</summary>
    public double WeightDecay { get; init; } = 0.01;
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;
    public long WarmupSteps { get; init; }
    /// <summary>Cosine decay ends at this fraction of the peak learning rate.</summary>
    public double MinLearningRateRatio { get; init; } = 0.1;
    /// <summary>Global gradient-norm clip; 0 turns clipping off.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Tokens per example; longer prompts are cut from the left.</summary>
    public int MaxLength { get; init; } = 512;
    public long EvalEvery { get; init; } = 100;
    public long SaveEvery { get; init; } = 500;
    public int Seed { get; init; } = 42;
    /// <summary>Freeze the embeddings and the bottom N blocks (cheap fine-tuning of big models).</summary>
    public int FreezeBottomLayers { get; init; }
    /// <summary>Held-out fraction split from the training data when no evaluation file is given.</summary>
    public double HeldOutFraction { get; init; } = 0.05;
    public bool SkipBadRows { get; init; }
    /// <summary>
    /// 1 shards the AdamW state over the ranks of a data-parallel (mpirun) run (ZeRO stage 1); 0 keeps a full
    /// copy on every rank. The weights come out the same either way.
    /// </summary>
    public int ZeroStage { get; init; }

    /// <summary>Throws a one-line error naming the option (its YAML key) unless <paramref name="ok"/>.</summary>
    protected void Require(bool ok, string property, string why)
    {
        if (!ok) throw new InvalidOptionException(property, KeyOf(property), null, why);
    }

    /// <summary>Throws a one-line error naming the option and its value unless <paramref name="ok"/>.</summary>
    protected void Require(bool ok, string property, object? value, string rule)
    {
        if (!ok) throw new InvalidOptionException(property, KeyOf(property), value, rule);
    }

    /// <summary>
    /// What changing <paramref name="property"/> between a run and its --resume does (see <see cref="ResumeRule"/>). Refused:
    /// the seed, batch size, max_length (examples are batched by their token length), held-out fraction and frozen layers,
    /// on which the saved data position, the split or the optimizer state depend. Free: evaluation, checkpoint and log
    /// cadence, skip_bad_rows (a bad row stops a run without it) and zero_stage (checked against the optimizer state itself).
    /// Everything else (steps, learning rate and schedule, clipping, accumulation, loss settings) is accepted with a warning.
    /// </summary>
    public virtual ResumeRule OnResume(string property) => property switch
    {
        nameof(Seed) or nameof(BatchSize) or nameof(MaxLength) or nameof(HeldOutFraction) or nameof(FreezeBottomLayers) => ResumeRule.Refuse,
        nameof(EvalEvery) or nameof(SaveEvery) or nameof(SkipBadRows) or nameof(ZeroStage) => ResumeRule.Free,
        _ => ResumeRule.Warn,
    };

    string KeyOf(string property) => Infrastructure.YamlConfig.KeyOf(GetType(), property);

    /// <summary>The error for a value of a <see cref="TrainingOptions"/> property that a check outside <see cref="Validate"/> refuses (e.g. against the model).</summary>
    public static InvalidOptionException InvalidOption(string property, object? value, string rule) =>
        new(property, Infrastructure.YamlConfig.KeyOf(typeof(TrainingOptions), property), value, rule);

    protected static bool Positive(double value) => value > 0 && double.IsFinite(value);
    protected static bool NotNegative(double value) => value >= 0 && double.IsFinite(value);

    public virtual void Validate()
    {
        Require(MaxSteps is null or > 0, nameof(MaxSteps), MaxSteps, "must be positive");
        Require(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        Require(GradientAccumulation > 0, nameof(GradientAccumulation), GradientAccumulation, "must be positive");
        Require(Positive(LearningRate), nameof(LearningRate), LearningRate, "must be a positive number");
        Require(NotNegative(WeightDecay), nameof(WeightDecay), WeightDecay, "must be 0 or more");
        Require(AdamBeta1 is >= 0 and < 1, nameof(AdamBeta1), AdamBeta1, "must be in [0, 1)");
        Require(AdamBeta2 is >= 0 and < 1, nameof(AdamBeta2), AdamBeta2, "must be in [0, 1)");
        Require(Positive(AdamEpsilon), nameof(AdamEpsilon), AdamEpsilon, "must be a positive number");
        Require(WarmupSteps >= 0, nameof(WarmupSteps), WarmupSteps, "must be 0 or more");
        Require(MinLearningRateRatio is >= 0 and <= 1, nameof(MinLearningRateRatio), MinLearningRateRatio, "must be in [0, 1]");
        Require(NotNegative(MaxGradNorm), nameof(MaxGradNorm), MaxGradNorm, "must be 0 (no clipping) or a positive number");
        Require(MaxLength >= 2, nameof(MaxLength), MaxLength, "must be at least 2");
        Require(EvalEvery > 0, nameof(EvalEvery), EvalEvery, "must be positive");
        Require(SaveEvery > 0, nameof(SaveEvery), SaveEvery, "must be positive");
        Require(HeldOutFraction is >= 0 and < 1, nameof(HeldOutFraction), HeldOutFraction, "must be in [0, 1)");
        Require(FreezeBottomLayers >= 0, nameof(FreezeBottomLayers), FreezeBottomLayers, "must be 0 or more");
        Require(ZeroStage is 0 or 1, nameof(ZeroStage), ZeroStage, "must be 0 or 1");
    }
}
