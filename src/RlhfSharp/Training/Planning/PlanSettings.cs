using RlhfSharp.Models;

namespace RlhfSharp.Training.Planning;

/// <summary>The trainer a plan is for.</summary>
public enum PlanMethod { Sft, Reward, Ppo, Dpo }

/// <summary>
/// The run a memory plan estimates: the trainer, its batch and lengths, and how the model trains (full, frozen bottom layers,
/// LoRA), as the trainers' options name them.
/// </summary>
public sealed record PlanSettings
{
    public PlanMethod Method { get; init; } = PlanMethod.Sft;
    /// <summary>sft: examples per micro-batch; reward and dpo: preference pairs (two sequences each); ppo: prompts per iteration.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>sft, reward, dpo: tokens per sequence; ppo: prompt tokens.</summary>
    public int MaxLength { get; init; } = 512;
    /// <summary>ppo: tokens generated per prompt.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>ppo: rollouts per forward/backward (0: the whole batch).</summary>
    public int MiniBatchSize { get; init; }
    /// <summary>ppo: passes over each rollout batch (the training FLOPs of an iteration).</summary>
    public int PpoEpochs { get; init; } = 4;
    /// <summary>The LoRA rank; 0 trains the weights themselves.</summary>
    public int LoraRank { get; init; }
    /// <summary>The projections LoRA wraps (PEFT's names, or all-linear).</summary>
    public IReadOnlyList<string> LoraTargets { get; init; } = [Planning.LoraTargets.AllLinear];
    /// <summary>LoRA's input dropout probability.</summary>
    public double LoraDropout { get; init; }
    /// <summary>Embeddings and the bottom N blocks frozen (PPO: shared with the reference, trlx's hydra).</summary>
    public int FreezeBottomLayers { get; init; }
    /// <summary>ppo: the value head on its own copy of the trunk.</summary>
    public bool SeparateValueModel { get; init; }
    /// <summary>Only each block's input is kept through the forward pass; a block's activations are recomputed in backward.</summary>
    public bool GradientCheckpointing { get; init; }
    /// <summary>1: the AdamW state is sharded over the ranks (ZeRO-1).</summary>
    public int ZeroStage { get; init; }
    /// <summary>Data-parallel processes; each holds what the plan lists.</summary>
    public int Ranks { get; init; } = 1;
    /// <summary>ppo: the reward model's shape; null: the policy's.</summary>
    public ModelConfig? RewardModel { get; init; }
    /// <summary>ppo with LoRA: the reward model is a LoRA adapter (the policy's rank and targets) and a score head on the
    /// policy's own base, which it shares: no second copy of the weights.</summary>
    public bool RewardSharesBase { get; init; }

    public bool UsesLora => LoraRank > 0;

    /// <summary>The sequences one training forward pass holds: pairs are two sequences, PPO trains on mini-batches.</summary>
    public int TrainingSequences => Method switch
    {
        PlanMethod.Reward or PlanMethod.Dpo => 2 * BatchSize,
        PlanMethod.Ppo => MiniBatchSize > 0 ? Math.Min(MiniBatchSize, BatchSize) : BatchSize,
        _ => BatchSize,
    };

    /// <summary>Tokens of one training sequence: PPO trains on prompt and response.</summary>
    public int TrainingLength => Method == PlanMethod.Ppo ? MaxLength + MaxNewTokens : MaxLength;
}
