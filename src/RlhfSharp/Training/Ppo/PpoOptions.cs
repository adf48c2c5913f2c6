namespace RlhfSharp.Training.Ppo;

/// <summary>
/// PPO against a reward model with a KL penalty to the reference (SFT) policy. Defaults follow trlx's
/// Anthropic-HH recipe where they apply. From <see cref="TrainingOptions"/>: max_steps is the number of PPO
/// iterations, batch_size the prompts rolled out per iteration, max_length the prompt tokens kept (cut from
/// the left), learning_rate / weight_decay / max_grad_norm the optimiser, freeze_bottom_layers the frozen trunk.
/// </summary>
public sealed class PpoOptions : TrainingOptions
{
    public PpoOptions()
    {
        MaxSteps = 100;
        LearningRate = 1e-5;
        EvalEvery = 10;
        SaveEvery = 10;
        LogEvery = 1;
    }

    /// <summary>Optimisation passes over each rollout batch.</summary>
    public int PpoEpochs { get; init; } = 4;
    /// <summary>Rollouts per gradient step within a pass (0: the whole batch).</summary>
    public int MiniBatchSize { get; init; }
    public double InitKlCoef { get; init; } = 0.05;
    /// <summary>Target KL for the adaptive controller; null keeps beta fixed at <see cref="InitKlCoef"/>.</summary>
    public double? Target { get; init; } = 6;
    public long Horizon { get; init; } = 10000;
    public double Gamma { get; init; } = 1;
    public double Lambda { get; init; } = 0.95;
    public double ClipRange { get; init; } = 0.2;
    public double ClipRangeValue { get; init; } = 0.2;
    public double ValueCoefficient { get; init; } = 1;
    /// <summary>Scores are clipped to +- this before scaling.</summary>
    public double ClipRangeReward { get; init; } = 10;
    /// <summary>"running" (divide by the running std of scores, as trlx), "ref" (use ref_mean / ref_std) or "none".</summary>
    public string ScaleReward { get; init; } = "running";
    public double RefMean { get; init; }
    public double RefStd { get; init; } = 1;

    /// <summary>Score responses relative to the dataset's preferred response for the same prompt (needs preference data as prompts).</summary>
    public bool DeltaReward { get; init; }
    /// <summary>Give the value head its own copy of the trunk instead of sharing the policy's.</summary>
    public bool SeparateValueModel { get; init; }

    public int MaxNewTokens { get; init; } = 64;
    public double Temperature { get; init; } = 1.0;
    public int TopK { get; init; }
    public double TopP { get; init; } = 1.0;
    /// <summary>Generation stops at any of these; "\n\nHuman:" for HH dialogues.</summary>
    public List<string> StopSequences { get; init; } = ["\n\nHuman:"];
    /// <summary>Prompts scored on held-out data at each evaluation (greedy decoding).</summary>
    public int EvalPrompts { get; init; } = 32;
    /// <summary>Every this many iterations, sample prompts, responses and rewards are printed and written to samples.md.</summary>
    public int SamplesEvery { get; init; } = 10;

    public override void Validate()
    {
        base.Validate();
        Require(PpoEpochs > 0, nameof(PpoEpochs), PpoEpochs, "must be positive");
        Require(MiniBatchSize >= 0, nameof(MiniBatchSize), MiniBatchSize, "must be 0 (the whole batch) or more");
        Require(NotNegative(InitKlCoef), nameof(InitKlCoef), InitKlCoef, "must be 0 or more");
        Require(Target is null || Positive(Target.Value), nameof(Target), Target, "must be a positive number (or absent for a fixed coefficient)");
        Require(Horizon > 0, nameof(Horizon), Horizon, "must be positive");
        Require(Gamma is > 0 and <= 1, nameof(Gamma), Gamma, "must be in (0, 1]");
        Require(Lambda is >= 0 and <= 1, nameof(Lambda), Lambda, "must be in [0, 1]");
        Require(Positive(ClipRange), nameof(ClipRange), ClipRange, "must be a positive number");
        Require(Positive(ClipRangeValue), nameof(ClipRangeValue), ClipRangeValue, "must be a positive number");
        Require(Positive(ClipRangeReward), nameof(ClipRangeReward), ClipRangeReward, "must be a positive number");
        Require(NotNegative(ValueCoefficient), nameof(ValueCoefficient), ValueCoefficient, "must be 0 or more");
        Require(ScaleReward is "running" or "ref" or "none", nameof(ScaleReward), $"must be running, ref or none, not '{ScaleReward}'");
        Require(double.IsFinite(RefMean), nameof(RefMean), RefMean, "must be a number");
        Require(Positive(RefStd), nameof(RefStd), RefStd, "must be a positive number");
        Require(MaxNewTokens > 0, nameof(MaxNewTokens), MaxNewTokens, "must be positive");
        Require(Positive(Temperature), nameof(Temperature), Temperature, "must be a positive number");
        Require(TopK >= 0, nameof(TopK), TopK, "must be 0 (off) or more");
        Require(TopP is > 0 and <= 1, nameof(TopP), TopP, "must be in (0, 1]");
        Require(StopSequences.All(s => s.Length > 0), nameof(StopSequences), "must not hold an empty string");
        Require(EvalPrompts > 0, nameof(EvalPrompts), EvalPrompts, "must be positive");
        Require(SamplesEvery > 0, nameof(SamplesEvery), SamplesEvery, "must be positive");
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
        nameof(EvalPrompts) or nameof(SamplesEvery) => ResumeRule.Free,
        _ => base.OnResume(property),
    };

    /// <summary>
    /// Prompt tokens a rollout keeps (cut from the left): max_length, and what the model's positions leave after
    /// max_new_tokens, so prompt + response always fits.
    /// </summary>
    public int PromptBudget(int maxPositions)
    {
        int budget = Math.Min(MaxLength, maxPositions - MaxNewTokens);
        Require(budget >= 1, nameof(MaxNewTokens), MaxNewTokens, $"leaves no room for a prompt in the model's {maxPositions} positions");
        return budget;
    }
}
