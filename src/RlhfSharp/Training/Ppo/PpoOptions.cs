using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// PPO against a reward model with a KL penalty to the reference (SFT) policy. Defaults follow trlx's
/// Anthropic-HH recipe where they apply; the names are spelled out (trlx's cliprange is clip_range, vf_coef is
/// value_loss_coefficient, target is target_kl). From <see cref="TrainingOptions"/>: max_steps is the number of PPO
/// iterations (100 by default), batch_size the prompts rolled out per iteration, gradient_accumulation the
/// mini-batches per optimizer step, max_length the prompt tokens kept (cut from the left), eval_every, save_every
/// and warmup_steps count iterations, learning_rate / weight_decay / max_grad_norm the optimiser,
/// freeze_bottom_layers the frozen trunk.
/// </summary>
public sealed class PpoOptions : TrainingOptions
{
    public PpoOptions()
    {
        MaxSteps = 100;
        LearningRate = 1e-5;
        EvalEvery = 10;
        SaveEvery = 10;
    }

    /// <summary>Optimisation passes over each rollout batch. Default 4.</summary>
    public int PpoEpochs { get; init; } = 4;
    /// <summary>Rollouts per forward/backward within a pass (0: the whole batch); <see cref="TrainingOptions.GradientAccumulation"/> of them make an optimizer step. Default 0.</summary>
    public int MiniBatchSize { get; init; }
    /// <summary>Initial KL coefficient beta: the weight of the per-token KL penalty to the reference policy in the reward. Default 0.05.</summary>
    public double InitKlCoef { get; init; } = 0.05;
    /// <summary>Target KL per sequence (nats) that the adaptive controller steers beta towards; null keeps beta fixed at <see cref="InitKlCoef"/>. Default 6.</summary>
    [AlsoKnownAs("target")]
    public double? TargetKl { get; init; } = 6;
    /// <summary>Adaptive KL horizon, in rollouts (summed over ranks): over this many, a constant proportional error e scales beta by about exp(e). Default 10000.</summary>
    public long Horizon { get; init; } = 10000;
    /// <summary>Discount per response token of the returns and advantages; 1 does not discount. Default 1.</summary>
    public double Gamma { get; init; } = 1;
    /// <summary>GAE lambda: trades the advantages' bias (0: one-step) against their variance (1: full returns). Default 0.95.</summary>
    [AlsoKnownAs("lam")]
    public double Lambda { get; init; } = 0.95;
    /// <summary>The policy loss clips the probability ratio to [1 - this, 1 + this]. Default 0.2.</summary>
    [AlsoKnownAs("cliprange")]
    public double ClipRange { get; init; } = 0.2;
    /// <summary>The value loss clips the new value estimates to within +- this of the rollout's. Default 0.2.</summary>
    [AlsoKnownAs("cliprange_value")]
    public double ClipRangeValue { get; init; } = 0.2;
    /// <summary>Weight of the value loss beside the policy loss. Default 1.</summary>
    [AlsoKnownAs("vf_coef", "value_coefficient")]
    public double ValueLossCoefficient { get; init; } = 1;
    /// <summary>Reward-model scores are clipped to +- this (in score units) before scaling. Default 10.</summary>
    [AlsoKnownAs("cliprange_reward")]
    public double ClipRangeReward { get; init; } = 10;
    /// <summary>"running" (divide by the running std of scores, as trlx), "ref" (use ref_mean / ref_std) or "none". Default "running".</summary>
    public string ScaleReward { get; init; } = "running";
    /// <summary>Mean subtracted from the clipped scores when <see cref="ScaleReward"/> is "ref". Default 0.</summary>
    public double RefMean { get; init; }
    /// <summary>Standard deviation the clipped scores are divided by when <see cref="ScaleReward"/> is "ref". Default 1.</summary>
    public double RefStd { get; init; } = 1;

    /// <summary>Score responses relative to the dataset's preferred response for the same prompt (needs preference data as prompts). Default false.</summary>
    public bool DeltaReward { get; init; }
    /// <summary>Give the value head its own copy of the trunk instead of sharing the policy's. Not with lora_r: a second trunk
    /// would be the second copy of the base that PPO with LoRA does without (the value head trains on the shared trunk). Default false.</summary>
    public bool SeparateValueModel { get; init; }

    /// <summary>
    /// How rollouts sample (max_new_tokens also bounds the greedy evaluation responses, which stop at the same
    /// stop_sequences). Its max_new_tokens, temperature, top_k, top_p and stop_sequences are keys and flags of PPO
    /// itself; each rollout's seed is derived from <see cref="TrainingOptions.Seed"/> (its own Seed is not used).
    /// Default <see cref="RolloutSampling"/>: 64 new tokens, temperature 1, no top-k or top-p cut, stop at "\n\nHuman:".
    /// </summary>
    [Flatten(nameof(SamplingOptions.MaxNewTokens), nameof(SamplingOptions.Temperature), nameof(SamplingOptions.TopK),
        nameof(SamplingOptions.TopP), nameof(SamplingOptions.StopSequences))]
    public SamplingOptions Sampling { get; init; } = RolloutSampling;

    /// <summary>The default <see cref="Sampling"/>: <see cref="SamplingOptions"/>' defaults, stopping where an HH dialogue's next human turn begins.</summary>
    public static SamplingOptions RolloutSampling { get; } = new() { StopSequences = ["\n\nHuman:"] };

    /// <summary>Held-out prompts scored at each evaluation (greedy decoding); the prompts themselves come from a file (--eval-prompts). Default 32.</summary>
    [AlsoKnownAs("eval_prompts", "eval_count")]
    public int EvalPromptCount { get; init; } = 32;
    /// <summary>Every this many iterations (and at the first), sample prompts, responses and rewards are printed and written to samples.md. Default 10.</summary>
    public int SamplesEvery { get; init; } = 10;

    /// <summary>
    /// Runs the policy again over each sampled batch for its old log-probabilities and values, instead of taking them from the
    /// sampler (the log-probabilities it drew with, the value head on the hidden states it computed). Both give the same
    /// numbers to float rounding (rollouts run without dropout, and the sampler records the unfiltered temperature-1
    /// distribution); the recomputing path is kept to check that. With a hydra reference it also runs the frozen bottom in every
    /// pass rather than once per rollout. Not a key: tests and benchmarks set it. Default false.
    /// </summary>
    internal bool RecomputeRolloutPasses { get; init; }

    public override void Validate()
    {
        base.Validate();
        Require(PpoEpochs > 0, nameof(PpoEpochs), PpoEpochs, "must be positive");
        Require(MiniBatchSize >= 0, nameof(MiniBatchSize), MiniBatchSize, "must be 0 (the whole batch) or more");
        Require(GradientAccumulation == 1 || MiniBatchSize > 0, nameof(GradientAccumulation), GradientAccumulation,
            "adds up the gradients of several mini-batches, so it needs mini_batch_size (0 makes the whole batch one mini-batch)");
        Require(NotNegative(InitKlCoef), nameof(InitKlCoef), InitKlCoef, "must be 0 or more");
        Require(TargetKl is null || Positive(TargetKl.Value), nameof(TargetKl), TargetKl, "must be a positive number (or absent for a fixed coefficient)");
        Require(Horizon > 0, nameof(Horizon), Horizon, "must be positive");
        Require(Gamma is > 0 and <= 1, nameof(Gamma), Gamma, "must be in (0, 1]");
        Require(Lambda is >= 0 and <= 1, nameof(Lambda), Lambda, "must be in [0, 1]");
        Require(Positive(ClipRange), nameof(ClipRange), ClipRange, "must be a positive number");
        Require(Positive(ClipRangeValue), nameof(ClipRangeValue), ClipRangeValue, "must be a positive number");
        Require(Positive(ClipRangeReward), nameof(ClipRangeReward), ClipRangeReward, "must be a positive number");
        Require(NotNegative(ValueLossCoefficient), nameof(ValueLossCoefficient), ValueLossCoefficient, "must be 0 or more");
        Require(ScaleReward is "running" or "ref" or "none", nameof(ScaleReward), $"must be running, ref or none, not '{ScaleReward}'");
        Require(double.IsFinite(RefMean), nameof(RefMean), RefMean, "must be a number");
        Require(Positive(RefStd), nameof(RefStd), RefStd, "must be a positive number");
        foreach (var (property, value, rule) in Sampling.Problems()) Require(false, property, value, rule);
        Require(EvalPromptCount > 0, nameof(EvalPromptCount), EvalPromptCount, "must be positive");
        Require(SamplesEvery > 0, nameof(SamplesEvery), SamplesEvery, "must be positive");
        Require(!SeparateValueModel || LoraR == 0, nameof(SeparateValueModel), SeparateValueModel,
            "must be false with lora_r: the value head then trains on the policy's shared trunk, and a separate value trunk would be a second copy of the base");
    }

    /// <summary>
    /// As for every trainer, except: prompts are batched by their text, so max_length only changes how much of each
    /// prompt the policy sees (a warning); the value model's layout is in the checkpoint (refused); the number of
    /// held-out prompts and the sample cadence do not touch the weights (free).
    /// </summary>
    public override ResumeRule OnResume(string property) => property switch
    {
        nameof(MaxLength) => ResumeRule.Warn,
        nameof(SeparateValueModel) => ResumeRule.Refuse,
        nameof(EvalPromptCount) or nameof(SamplesEvery) => ResumeRule.Free,
        _ => base.OnResume(property),
    };

    /// <summary>
    /// Prompt tokens a rollout keeps (cut from the left): max_length, and what the model's context leaves beside
    /// max_new_tokens (<see cref="ContextWindow.PromptRoom"/>, which refuses a max_new_tokens that leaves none), so prompt
    /// + response always fits.
    /// </summary>
    public int PromptBudget(ContextWindow context) => Math.Min(MaxLength, context.PromptRoom(Sampling.MaxNewTokens));
}
