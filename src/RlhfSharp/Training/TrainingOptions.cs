using RlhfSharp.Models.Lora;
using RlhfSharp.Training.Configuration;

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
    /// <summary>LoRA rank r: train low-rank adapters on the <see cref="LoraTarget"/> projections and freeze the base model
    /// (saved as a PEFT adapter folder); 0 trains the weights themselves. Default 0.</summary>
    public int LoraR { get; init; }
    /// <summary>LoRA alpha: the adapters' update is scaled by alpha/r (alpha/√r with <see cref="UseRslora"/>). Default 16.</summary>
    public double LoraAlpha { get; init; } = 16;
    /// <summary>Dropout on the adapters' input while training. Default 0.</summary>
    public double LoraDropout { get; init; }
    /// <summary>Projections that get adapters, named as PEFT names them (q_proj, v_proj ... ; GPT-2: c_attn, c_proj, c_fc), by
    /// module-name suffix, comma-separated or repeated; all-linear: every projection of the blocks. Default all-linear.</summary>
    public IReadOnlyList<string> LoraTarget { get; init; } = [LoraSettings.AllLinear];
    /// <summary>Rank-stabilised LoRA: scale alpha/√r instead of alpha/r. Default false.</summary>
    public bool UseRslora { get; init; }

    /// <summary>The LoRA adapters this run trains, or null when it trains the weights (lora_r 0).</summary>
    public LoraSettings? Lora() => LoraR == 0
        ? null
        : new LoraSettings(LoraR, LoraAlpha, LoraDropout,
            LoraTarget.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(), UseRslora);
    /// <summary>
    /// Keep no activations inside the decoder blocks for the backward pass: each block is run again, with the same
    /// dropout, when its gradients are needed. Less memory for about one more forward pass per step; same gradients. Default false.
    /// </summary>
    public bool GradientCheckpointing { get; init; }
    /// <summary>
    /// Under mpirun: seconds a rank may go unheard, or wait in one collective for a rank that has not reached it, before the
    /// run stops with an error naming that rank (a stopped or hung process, an unreachable host) instead of waiting forever.
    /// A killed rank is named at once, whatever this is. Default 300 (5 minutes).
    /// </summary>
    public double CollectiveTimeout { get; init; } = Distributed.PeerWatch.DefaultTimeoutSeconds;

    /// <summary>Throws a one-line error naming the option (its YAML key) unless <paramref name="ok"/>.</summary>
    protected void Require(bool ok, string property, string why)
    {
        if (!ok) throw new InvalidOptionException(property, Configuration.YamlConfig.Key(property), null, why);
    }

    /// <summary>Throws a one-line error naming the option and its value unless <paramref name="ok"/>.</summary>
    protected void Require(bool ok, string property, object? value, string rule)
    {
        if (!ok) throw new InvalidOptionException(property, Configuration.YamlConfig.Key(property), value, rule);
    }

    /// <summary>
    /// What changing <paramref name="property"/> between a run and its --resume does (see <see cref="ResumeRule"/>). Refused:
    /// the seed, batch size, max_length (examples are batched by their token length), held-out fraction and frozen layers,
    /// on which the saved data position, the split or the optimizer state depend. Free: evaluation, checkpoint and log
    /// cadence, skip_bad_rows (a bad row stops a run without it), zero_stage (checked against the optimizer state itself),
    /// gradient_checkpointing (the same gradients either way) and collective_timeout. The LoRA settings are refused too: the saved adapters and
    /// their optimizer state have their shapes.
    /// Everything else (steps, learning rate and schedule, clipping, accumulation, loss settings) is accepted with a warning.
    /// </summary>
    public virtual ResumeRule OnResume(string property) => property switch
    {
        nameof(Seed) or nameof(BatchSize) or nameof(MaxLength) or nameof(HeldOutFraction) or nameof(FreezeBottomLayers)
            or nameof(LoraR) or nameof(LoraAlpha) or nameof(LoraDropout) or nameof(LoraTarget) or nameof(UseRslora) => ResumeRule.Refuse,
        nameof(EvalEvery) or nameof(SaveEvery) or nameof(SkipBadRows) or nameof(ZeroStage) or nameof(GradientCheckpointing)
            or nameof(CollectiveTimeout) => ResumeRule.Free,
        _ => ResumeRule.Warn,
    };


    /// <summary>The error for a value of a <see cref="TrainingOptions"/> property that a check outside <see cref="Validate"/> refuses (e.g. against the model).</summary>
    public static InvalidOptionException InvalidOption(string property, object? value, string rule) =>
        new(property, Configuration.YamlConfig.Key(property), value, rule);

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
        Require(Positive(CollectiveTimeout), nameof(CollectiveTimeout), CollectiveTimeout, "must be a positive number of seconds");
        Require(ZeroStage is 0 or 1, nameof(ZeroStage), ZeroStage, "must be 0 or 1");
        Require(LoraR >= 0, nameof(LoraR), LoraR, "must be 0 (no LoRA) or a positive rank");
        Require(Positive(LoraAlpha), nameof(LoraAlpha), LoraAlpha, "must be a positive number");
        Require(LoraDropout is >= 0 and < 1, nameof(LoraDropout), LoraDropout, "must be in [0, 1)");
        Require(LoraR == 0 || Lora()!.TargetModules.Count > 0, nameof(LoraTarget), "must name at least one module (or all-linear)");
        Require(LoraR == 0 || FreezeBottomLayers == 0, nameof(FreezeBottomLayers), FreezeBottomLayers, "must be 0 with lora_r: LoRA already freezes the whole base model");
    }
}
