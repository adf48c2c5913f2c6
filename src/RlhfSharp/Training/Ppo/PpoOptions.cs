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
        Require(PpoEpochs > 0, "ppo_epochs", "must be positive");
        Require(MiniBatchSize >= 0, "mini_batch_size", "must not be negative");
        Require(InitKlCoef >= 0, "init_kl_coef", "must not be negative");
        Require(Target is null or > 0, "target", "must be positive (or absent for a fixed coefficient)");
        Require(Horizon > 0, "horizon", "must be positive");
        Require(Gamma is > 0 and <= 1 && Lambda is >= 0 and <= 1, "gamma/lambda", "must be in (0, 1] and [0, 1]");
        Require(ClipRange > 0 && ClipRangeValue > 0 && ClipRangeReward > 0, "cliprange", "clip ranges must be positive");
        Require(ScaleReward is "running" or "ref" or "none", "scale_reward", $"must be running, ref or none, not '{ScaleReward}'");
        Require(RefStd > 0, "ref_std", "must be positive");
        Require(MaxNewTokens > 0, "max_new_tokens", "must be positive");
        Require(Temperature > 0, "temperature", "must be positive");
        Require(TopP is > 0 and <= 1, "top_p", "must be in (0, 1]");
    }
}
