using RlhfSharp.Models;
using RlhfSharp.Models.Lora;

namespace RlhfSharp.Training.Ppo;

/// <summary>PPO's models on one base: the LoRA policy with its value head, its reference, and the reward model when it is an adapter on the same base.</summary>
public sealed record LoraPpoModels(PolicyWithValueHead Policy, AdapterOffReference Reference, SharedBaseRewardModel? Reward);

/// <summary>
/// PPO with LoRA on one base model: the base's weights are loaded once and frozen; the policy is the base with trainable
/// adapters (fresh, or continuing a starting adapter such as an SFT run's), the value head sits on the same trunk, the
/// reference is the same model with the policy's adapters off (<see cref="AdapterOffReference"/>), and a reward model that
/// is an adapter on the same base scores through the same trunk with only its adapter on (<see cref="SharedBaseRewardModel"/>).
/// </summary>
public static class LoraPolicy
{
    /// <summary>The name the starting adapter's frozen copy is set aside under: on in the reference pass only.</summary>
    public const string StartingAdapterName = "starting";

    /// <param name="model">The base, loaded once; it carries every adapter afterwards.</param>
    /// <param name="settings">The fresh adapters' rank, alpha, dropout and targets; unused with <paramref name="startingAdapter"/>,
    /// which brings its own.</param>
    /// <param name="baseModel">base_model_name_or_path of the saved policy adapters: the base as the user named it.</param>
    /// <param name="startingAdapter">A CAUSAL_LM adapter folder on this base (`sft --lora-r`'s output) whose training PPO continues;
    /// the reference is then base + this adapter (the SFT policy), not the bare base.</param>
    /// <param name="rewardAdapter">A SEQ_CLS adapter folder on this base: the reward model, sharing the base's weights.</param>
    public static LoraPpoModels Create(CausalLanguageModel model, LoraSettings? settings, string? baseModel, string? startingAdapter = null, string? rewardAdapter = null)
    {
        if (startingAdapter is not null) RequireStartingAdapter(startingAdapter, PeftAdapter.ReadConfig(startingAdapter));
        else if (settings is null) throw new ArgumentNullException(nameof(settings), "fresh adapters need their settings");
        // Every other adapter goes on before the policy's: attaching one freezes the whole model, the policy's included.
        var reward = rewardAdapter is null ? null : SharedBaseRewardModel.Load(model, rewardAdapter);
        var reference = AttachPolicyAdapters(model, settings, startingAdapter)!;
        var policy = new PolicyWithValueHead(model) { AdapterBaseModel = baseModel };
        return new LoraPpoModels(policy, reference, reward);
    }

    /// <summary>
    /// Puts the policy's trainable adapters on <paramref name="model"/>: fresh ones with <paramref name="settings"/>, or a copy
    /// of <paramref name="startingAdapter"/> beside a frozen copy set aside under <see cref="StartingAdapterName"/>. Returns
    /// the reference that goes with them: the model with the policy's adapters off (and the starting copy on); without
    /// <paramref name="withReference"/> (GRPO with beta 0), no frozen copy and no reference. Adapters that are not the policy's
    /// (a reward model's) must be on before: attaching one freezes the whole model.
    /// </summary>
    public static AdapterOffReference? AttachPolicyAdapters(CausalLanguageModel model, LoraSettings? settings, string? startingAdapter, bool withReference = true)
    {
        if (startingAdapter is not null)
        {
            if (withReference)
            {
                PeftAdapter.Load(model, startingAdapter);
                LoraModel.NameAdapters(model, StartingAdapterName);
            }
            PeftAdapter.Load(model, startingAdapter); // the policy's own copy, which trains
        }
        else LoraModel.Attach(model, settings ?? throw new ArgumentNullException(nameof(settings), "fresh adapters need their settings"));
        return withReference ? new AdapterOffReference(model, startingAdapter is null ? null : StartingAdapterName) : null;
    }

    /// <summary>
    /// A starting adapter is a causal LM's; on a shared base (<paramref name="sharedBase"/>) it must train adapters only:
    /// one that also trains whole modules (modules_to_save) would change the base PPO shares, so it is refused there
    /// (PPO without lora_r fine-tunes base + adapter merged instead).
    /// </summary>
    public static void RequireStartingAdapter(string directory, PeftAdapter.AdapterConfig config, bool sharedBase = true)
    {
        AdaptedModelSource.RequireTask(directory, config, PeftAdapter.CausalLm);
        if (sharedBase && config.ModulesToSave.Count > 0)
            throw new RlhfException($"{directory}: its adapter also trains whole modules (modules_to_save: {string.Join(", ", config.ModulesToSave)}), " +
                "which would change the base PPO shares with its reference; run ppo without lora_r to fine-tune base + adapter merged");
    }
}
